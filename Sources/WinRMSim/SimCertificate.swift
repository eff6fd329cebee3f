import Foundation
import Crypto
import X509
import SwiftASN1

/// The self-signed certificate every simulated https listener presents: a fresh P-256 key per fleet,
/// an IP SAN for every host address plus `localhost`, valid from one hour ago for 30 days.
/// The certificate is its own CA, so clients can trust it with `ca_file` (no need to disable
/// verification).
struct SimCertificate {
    let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey
    let der: [UInt8]
    let pem: String

    init(addresses: [String], commonName: String = "winfleet simulator") throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("winfleet")
            CommonName(commonName)
        }
        var sans: [GeneralName] = [.dnsName("localhost")]
        for address in addresses {
            if let bytes = HostAddressPlan.bytes(address) {
                sans.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
            }
        }
        let now = Date()
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(sans)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(30 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        self.certificate = certificate
        self.privateKey = key
        self.der = serializer.serializedBytes
        self.pem = try certificate.serializeAsPEM().pemString
    }

    /// SHA-256 fingerprint, lower-case hex without separators.
    var sha256Fingerprint: String {
        SHA256.hash(data: der).map { String(format: "%02x", $0) }.joined()
    }
}
