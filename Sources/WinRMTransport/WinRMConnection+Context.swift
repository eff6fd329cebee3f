import Foundation

extension WinRMConnection {
    /// Connection-bound authentication (NTLM now; Kerberos through GSS-API later).
    func exchangeWithContext(_ soap: Data) async throws -> (status: Int, body: Data) {
        throw WinRMError(.auth, "\(config.hostDescription): NTLM/Negotiate/Kerberos are not built in yet")
    }
}
