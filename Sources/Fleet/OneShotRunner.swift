import Foundation
import WSMan
import WinRMTransport

/// Runs one command on many hosts: connect, authenticate, open a shell, run, clean up,
/// with at most `throttle` hosts in flight.
public struct OneShotRunner: Sendable {
    public var throttle: Int
    /// Bounds each host's whole command (connect included); nil = no bound.
    public var timeout: TimeInterval?
    public var shellOptions: ShellOptions

    public init(throttle: Int = 64, timeout: TimeInterval? = nil, shellOptions: ShellOptions = ShellOptions()) {
        self.throttle = max(1, throttle)
        self.timeout = timeout
        self.shellOptions = shellOptions
    }

    public func run(_ spec: CommandSpec, on plans: [HostPlan],
                    onResult: @escaping @Sendable (HostResult) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func startNext() {
                guard next < plans.count else { return }
                let plan = plans[next]
                next += 1
                group.addTask { onResult(await runOne(spec, plan: plan)) }
            }
            for _ in 0..<min(throttle, plans.count) { startNext() }
            while await group.next() != nil { startNext() }
        }
    }

    public func runOne(_ spec: CommandSpec, plan: HostPlan) async -> HostResult {
        let started = Date()
        func result(_ status: HostStatus, exitCode: Int32? = nil, output: CommandOutput? = nil, error: WinRMError? = nil) -> HostResult {
            HostResult(host: plan.host.name, route: plan.route.routeName, status: status, exitCode: exitCode,
                       stdout: output.map { OutputText.decode($0.stdout) } ?? "",
                       stderr: output.map { OutputText.decodeStderr($0.stderr, powerShell: spec.isPowerShell) } ?? "",
                       error: error, startedAt: started, duration: Date().timeIntervalSince(started))
        }
        guard let config = plan.connection else {
            return result(.error, error: plan.refusal ?? WinRMError(.policy, "\(plan.host.name): not runnable"))
        }
        let connection = WinRMConnection(config: config)
        let shell = WinRSShell(connection: connection, options: shellOptions)
        let deadline = timeout.map { started.addingTimeInterval($0) }
        do {
            let output = try await shell.run(spec, deadline: deadline)
            await shell.close()
            await connection.close()
            let code = output.exitCode ?? -1
            return result(code == 0 ? .ok : .failed, exitCode: output.exitCode, output: output)
        } catch let interrupted as CommandInterrupted {
            await shell.close()
            await connection.close()
            switch interrupted.reason {
            case .timeout:
                return result(.timeout, output: interrupted.output,
                              error: WinRMError(.timeout, "\(plan.host.name): the command did not finish within \(Int(timeout ?? 0)) s; it was stopped (ctrl_c, terminate)"))
            case .cancelled:
                return result(.cancelled, output: interrupted.output)
            }
        } catch let error as WinRMError {
            await connection.close()
            return result(error.kind == .timeout ? .timeout : .error, error: error)
        } catch {
            await connection.close()
            return result(.error, error: WinRMError(.protocol, "\(plan.host.name): \(error)"))
        }
    }
}

/// Output bytes to text: UTF-8 after joining (codepage 65001), PowerShell's CLIXML stderr made readable.
public enum OutputText {
    public static func decode(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self)
    }

    public static func decodeStderr(_ data: Data, powerShell: Bool) -> String {
        let text = decode(data)
        return powerShell ? PowerShell.cleanCLIXML(text) : text
    }
}
