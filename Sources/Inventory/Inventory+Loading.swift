import ASCIIText
import Foundation

/// The inventory file's keys, in one place (the file format is a contract other tooling relies on).
enum InventoryKeys {
    static let topLevel = ["defaults", "credentials", "routes", "hosts"]
    static let credential = ["username", "password_env", "password_file", "password"]
    static let route = ["proxy", "mode", "proxy_auth", "proxy_credential", "proxy_tls"]
    static let proxyTLS = ["ca_file", "verify"]
    static let tls = ["ca_file", "fingerprint_sha256", "verify"]
    /// Keys a host may set and `defaults` may supply.
    static let hostFields = ["port", "transport", "auth", "credential", "route", "groups", "encryption", "tls",
                             "allow_unencrypted", "operation_timeout", "connect_timeout", "spn_service", "spn",
                             "kerberos_delegation", "path"]
    static let host = ["name", "address"] + hostFields
}

/// `tls` as written: every key optional, so defaults and host settings merge key by key.
struct TLSFields {
    var caFile: String?
    var fingerprintSHA256: String?
    var verify: Bool?

    func merged(over base: TLSFields?) -> TLSFields {
        TLSFields(caFile: caFile ?? base?.caFile,
                  fingerprintSHA256: fingerprintSHA256 ?? base?.fingerprintSHA256,
                  verify: verify ?? base?.verify)
    }

    var settings: TLSSettings {
        TLSSettings(caFile: caFile, fingerprintSHA256: fingerprintSHA256, verify: verify ?? true)
    }
}

/// Host fields as written in `defaults` or one host; nil means "not set here".
struct HostFields {
    var port: Int?
    var transport: Transport?
    var auth: HostAuth?
    var credential: String?
    var route: String?
    var groups: [String]?
    var encryption: EncryptionMode?
    var tls: TLSFields?
    var allowUnencrypted: Bool?
    var operationTimeout: Double?
    var connectTimeout: Double?
    var spnService: SPNService?
    var spn: String?
    var kerberosDelegation: Bool?
    var path: String?
}

/// Builds JSON paths such as `hosts[3].tls.verify` or `credentials["svc.backup"].username`.
enum JSONPath {
    static func key(_ parent: String, _ key: String) -> String {
        // On bytes: this runs for every key of every host, and Character properties are slow.
        let plain = !key.isEmpty && key.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x5F || byte == 0x2D
        }
        if plain { return parent.isEmpty ? key : "\(parent).\(key)" }
        let escaped = key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\(parent)[\"\(escaped)\"]"
    }

    static func index(_ parent: String, _ index: Int) -> String { "\(parent)[\(index)]" }
}

/// Turns inventory JSON into an `Inventory`, collecting every problem instead of stopping at the first.
struct InventoryLoader {
    private let data: Data
    private let fileName: String
    private let baseDirectory: String?
    private let bytes: [UInt8]
    private var lineStarts: [Int] = []

    private var errors: [(offset: Int, issue: InventoryIssue)] = []
    private var warnings: [(offset: Int, issue: InventoryIssue)] = []

    /// Names defined under `credentials` / `routes`, valid or not, so one bad entry does not also
    /// produce "missing credential" errors everywhere it is used.
    private var definedCredentialNames: Set<String> = []
    private var definedRouteNames: Set<String> = []

    init(data: Data, fileName: String, baseDirectory: String?) {
        self.data = data
        self.fileName = fileName
        self.baseDirectory = baseDirectory
        self.bytes = [UInt8](data)
    }

    mutating func load() throws -> Inventory {
        lineStarts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") { lineStarts.append(offset + 1) }

        let root: JSONNode
        do {
            root = try JSONParser.parse(data)
        } catch let syntax as JSONSyntaxError {
            let position = TextPosition(offset: syntax.offset, in: bytes)
            throw InventoryError(file: fileName, issues: [InventoryIssue(
                file: fileName, path: "", line: position.line, column: position.column,
                message: "invalid JSON: \(syntax.message)", fix: "fix the JSON syntax at this position")])
        }

        guard let top = object(root, path: "", allowedKeys: InventoryKeys.topLevel, what: "the inventory") else {
            throw finishedError()
        }

        var credentials: [String: Credential] = [:]
        if let node = top["credentials"], let entries = object(node, path: "credentials", allowedKeys: nil, what: "credentials") {
            definedCredentialNames = Set(entries.members.map(\.key))
            for member in entries.members {
                if let credential = parseCredential(member) { credentials[member.key] = credential }
            }
        }

        var routes: [String: Route] = [:]
        if let node = top["routes"], let entries = object(node, path: "routes", allowedKeys: nil, what: "routes") {
            definedRouteNames = Set(entries.members.map(\.key))
            for member in entries.members {
                if let route = parseRoute(member) { routes[member.key] = route }
            }
        }
        if routes[Route.implicitDirectName] == nil && !definedRouteNames.contains(Route.implicitDirectName) {
            routes[Route.implicitDirectName] = .direct
        }

        var defaults = HostFields()
        if let node = top["defaults"], let members = object(node, path: "defaults", allowedKeys: InventoryKeys.hostFields, what: "defaults") {
            defaults = parseHostFields(members, path: "defaults")
        }

        var hosts: [InventoryHost] = []
        if let node = top["hosts"] {
            if case .array(let elements) = node.value {
                var firstIndexByName: [String: Int] = [:]
                for (index, element) in elements.enumerated() {
                    if let host = parseHost(element, index: index, defaults: defaults, firstIndexByName: &firstIndexByName) {
                        hosts.append(host)
                    }
                }
            } else {
                addError("hosts", node, "expected an array of hosts, found \(node.typeDescription)",
                         fix: "write \"hosts\": [ { \"name\": \"web01\" } ]")
            }
        } else {
            addError("", root, "the inventory has no \"hosts\"", fix: "add \"hosts\": [ { \"name\": \"web01\" } ]")
        }

        if !errors.isEmpty { throw finishedError() }
        return Inventory(hosts: hosts, routes: routes, credentials: credentials,
                         warnings: sorted(warnings), fileName: fileName)
    }

    // MARK: - Credentials

    private mutating func parseCredential(_ member: JSONMember) -> Credential? {
        let path = JSONPath.key("credentials", member.key)
        guard let fields = object(member.value, path: path, allowedKeys: InventoryKeys.credential, what: "a credential") else { return nil }
        var valid = true
        if member.key.isEmpty {
            addError(path, member.value, "a credential name is empty", fix: "give the credential a name")
            valid = false
        }

        var username: String?
        if let node = fields["username"] {
            if let text = string(node, path: JSONPath.key(path, "username")) {
                if AccountName(text) != nil {
                    username = text
                } else {
                    addError(JSONPath.key(path, "username"), node, "\"\(text)\" is not a valid username",
                             fix: "write DOMAIN\\\\user (escaped backslash in JSON), user@domain or user")
                }
            }
        } else {
            addError(JSONPath.key(path, "username"), member.value, "the credential has no username",
                     fix: "add \"username\": \"DOMAIN\\\\user\", \"user@domain\" or \"user\"")
        }

        let sourceKeys = ["password_env", "password_file", "password"].filter { fields[$0] != nil }
        var source: Credential.Source?
        var inlinePassword: Secret?
        if sourceKeys.isEmpty {
            addError(path, member.value, "the credential has no password source",
                     fix: "add one of \"password_env\": \"VAR\", \"password_file\": \"path\" or \"password\"")
        } else if sourceKeys.count > 1 {
            addError(JSONPath.key(path, sourceKeys[1]), fields[sourceKeys[1]]!,
                     "the credential sets \(sourceKeys.joined(separator: " and ")); only one password source is allowed",
                     fix: "keep one of password_env, password_file or password")
        } else if let node = fields["password_env"] {
            if let variable = string(node, path: JSONPath.key(path, "password_env")) {
                if isEnvironmentVariableName(variable) {
                    source = .environment(variable)
                } else {
                    addError(JSONPath.key(path, "password_env"), node, "\"\(variable)\" is not an environment variable name",
                             fix: "use letters, digits and _ (not starting with a digit), e.g. WINFLEET_ADMIN_PASSWORD")
                }
            }
        } else if let node = fields["password_file"] {
            if let file = string(node, path: JSONPath.key(path, "password_file")) {
                source = .file(resolveFilePath(file))
            }
        } else if let node = fields["password"] {
            // Never echo the value: it is a password.
            if case .string(let secret) = node.value {
                source = .inline
                inlinePassword = Secret(secret)
                addWarning(JSONPath.key(path, "password"), node, "the password is written in the inventory",
                           fix: "move it to an environment variable (password_env) or a file readable only by you (password_file)")
            } else {
                addError(JSONPath.key(path, "password"), node, "expected a string, found \(node.value.kindName)",
                         fix: "write the password as a JSON string, or better use password_env")
            }
        }
        guard valid, let username, let source else { return nil }
        return Credential(name: member.key, username: username, source: source, inlinePassword: inlinePassword)
    }

    // MARK: - Routes

    private mutating func parseRoute(_ member: JSONMember) -> Route? {
        let path = JSONPath.key("routes", member.key)
        guard let fields = object(member.value, path: path, allowedKeys: InventoryKeys.route, what: "a route") else { return nil }
        var valid = checkName(member.key, path: path, node: member.value, what: "route")

        var proxy = ProxySetting.none
        var proxyIsHTTP = false
        if let node = fields["proxy"] {
            let proxyPath = JSONPath.key(path, "proxy")
            if let text = string(node, path: proxyPath) {
                if text == "env" {
                    proxy = .environment
                } else {
                    switch ProxyURL.parse(text) {
                    case .success(let url):
                        proxy = .url(url)
                        proxyIsHTTP = url.scheme == .http
                    case .failure(let reason):
                        valid = false
                        let shown = reason == .containsCredentials ? "the proxy URL" : "\"\(text)\""
                        let fix = reason == .containsCredentials
                            ? "remove user:password@ from the URL; add the account under \"credentials\" and set proxy_auth and proxy_credential"
                            : "write \"env\", http://host:port or https://host:port"
                        addError(proxyPath, node, "\(shown) is not a valid proxy URL: it \(reason.message)", fix: fix)
                    }
                }
            } else {
                valid = false
            }
        }
        let hasProxy = fields["proxy"] != nil

        var mode = ProxyMode.tunnel
        if let node = fields["mode"] {
            if let value = enumeration(node, path: JSONPath.key(path, "mode"), ProxyMode.self) { mode = value } else { valid = false }
        }
        var proxyAuth = ProxyAuthScheme.none
        if let node = fields["proxy_auth"] {
            if let value = enumeration(node, path: JSONPath.key(path, "proxy_auth"), ProxyAuthScheme.self) { proxyAuth = value } else { valid = false }
        }
        var proxyCredential: String?
        if let node = fields["proxy_credential"] {
            let credentialPath = JSONPath.key(path, "proxy_credential")
            if let name = string(node, path: credentialPath) {
                if definedCredentialNames.contains(name) {
                    proxyCredential = name
                } else {
                    valid = false
                    addError(credentialPath, node, "credential \"\(name)\" is not defined\(didYouMean(name, among: definedCredentialNames))",
                             fix: "add \"\(name)\" under \"credentials\" or fix the name")
                }
            } else {
                valid = false
            }
        }
        var proxyTLS = TLSSettings.standard
        if let node = fields["proxy_tls"] {
            let tlsPath = JSONPath.key(path, "proxy_tls")
            if let tlsFields = object(node, path: tlsPath, allowedKeys: InventoryKeys.proxyTLS, what: "proxy_tls") {
                proxyTLS = parseTLS(tlsFields, path: tlsPath).settings
                if proxyIsHTTP {
                    addWarning(tlsPath, node, "proxy_tls has no effect: the proxy is reached over plain http://",
                               fix: "use an https:// proxy URL, or remove proxy_tls")
                }
            } else {
                valid = false
            }
        }

        if hasProxy {
            if proxyAuth != .none && fields["proxy_credential"] == nil {
                valid = false
                addError(JSONPath.key(path, "proxy_credential"), fields["proxy_auth"]!,
                         "proxy_auth \(proxyAuth) needs a proxy_credential",
                         fix: "add \"proxy_credential\": the name of an entry under \"credentials\", or set proxy_auth none")
            }
            if proxyAuth == .none, let node = fields["proxy_credential"] {
                addWarning(JSONPath.key(path, "proxy_credential"), node, "proxy_credential is unused because proxy_auth is none",
                           fix: "set proxy_auth (basic, digest, ntlm or negotiate), or remove proxy_credential")
            }
        } else {
            for key in ["mode", "proxy_auth", "proxy_credential", "proxy_tls"] {
                if let node = fields[key] {
                    valid = false
                    addError(JSONPath.key(path, key), node, "\(key) is set but the route has no proxy",
                             fix: "add \"proxy\": \"env\" or a proxy URL, or remove \(key) (a direct route is {})")
                }
            }
        }

        guard valid else { return nil }
        return Route(name: member.key, proxy: proxy, mode: mode, proxyAuth: proxyAuth,
                     proxyCredential: proxyCredential, proxyTLS: proxyTLS)
    }

    // MARK: - Hosts

    private mutating func parseHost(_ node: JSONNode, index: Int, defaults: HostFields,
                                    firstIndexByName: inout [String: Int]) -> InventoryHost? {
        let path = JSONPath.index("hosts", index)
        guard let fields = object(node, path: path, allowedKeys: InventoryKeys.host, what: "a host") else { return nil }
        let errorCountBefore = errors.count

        var name: String?
        if let nameNode = fields["name"] {
            let namePath = JSONPath.key(path, "name")
            if let text = string(nameNode, path: namePath), checkName(text, path: namePath, node: nameNode, what: "host") {
                let key = text.lowercased()
                if let first = firstIndexByName[key] {
                    addError(namePath, nameNode, "duplicate host name \"\(text)\" (also hosts[\(first)])",
                             fix: "give every host a unique name (names are case-insensitive); use \"address\" when two entries reach the same machine")
                } else {
                    firstIndexByName[key] = index
                    name = text
                }
            }
        } else {
            addError(JSONPath.key(path, "name"), node, "the host has no name", fix: "add \"name\": \"web01\"")
        }

        var address: String?
        if let addressNode = fields["address"] {
            let addressPath = JSONPath.key(path, "address")
            if let text = string(addressNode, path: addressPath) {
                address = checkAddress(text, path: addressPath, node: addressNode)
            }
        }

        let own = parseHostFields(fields, path: path)
        guard errors.count == errorCountBefore, let name else { return nil }

        let transport = own.transport ?? defaults.transport ?? .http
        let auth = own.auth ?? defaults.auth ?? .negotiate
        let credential = own.credential ?? defaults.credential
        let routeName = own.route ?? defaults.route ?? Route.implicitDirectName
        let tlsFields = own.tls.map { $0.merged(over: defaults.tls) } ?? defaults.tls
        let host = InventoryHost(
            name: name,
            address: address ?? name,
            port: own.port ?? defaults.port ?? transport.defaultPort,
            transport: transport,
            auth: auth,
            credentialName: credential,
            routeName: routeName,
            groups: own.groups ?? defaults.groups ?? [],
            encryption: own.encryption ?? defaults.encryption ?? .auto,
            tls: tlsFields?.settings ?? .standard,
            allowUnencrypted: own.allowUnencrypted ?? defaults.allowUnencrypted ?? false,
            operationTimeout: own.operationTimeout ?? defaults.operationTimeout ?? InventoryHost.defaultOperationTimeout,
            connectTimeout: own.connectTimeout ?? defaults.connectTimeout ?? InventoryHost.defaultConnectTimeout,
            spnService: own.spnService ?? defaults.spnService ?? .http,
            spn: own.spn ?? defaults.spn,
            kerberosDelegation: own.kerberosDelegation ?? defaults.kerberosDelegation ?? false,
            path: own.path ?? defaults.path ?? InventoryHost.defaultPath)

        // Checks that need the merged host.
        if (auth == .basic || auth == .ntlm) && credential == nil {
            addError(JSONPath.key(path, "credential"), node, "auth \(auth) needs a credential",
                     fix: "add \"credential\": NAME (here or in defaults), or use auth kerberos/negotiate with a Kerberos ticket")
            return nil
        }
        if own.tls != nil && transport == .http {
            addWarning(JSONPath.key(path, "tls"), fields["tls"]!, "tls has no effect on transport http",
                       fix: "set \"transport\": \"https\", or remove tls")
        }
        if auth == .kerberos && host.spn == nil && IPAddress.isLiteral(host.address) {
            addWarning(JSONPath.key(path, "address"), fields["address"] ?? node,
                       "Kerberos needs a host name, but the address is an IP literal",
                       fix: "use the DNS name as address, or set \"spn\" explicitly")
        }
        return host
    }

    /// Reads host fields (used for both `defaults` and each host) and checks their references.
    private mutating func parseHostFields(_ fields: ObjectFields, path: String) -> HostFields {
        var result = HostFields()
        func at(_ key: String) -> String { JSONPath.key(path, key) }

        if let node = fields["port"] { result.port = integer(node, path: at("port"), in: 1...65535, what: "a port") }
        if let node = fields["transport"] { result.transport = enumeration(node, path: at("transport"), Transport.self) }
        if let node = fields["auth"] { result.auth = enumeration(node, path: at("auth"), HostAuth.self) }
        if let node = fields["encryption"] { result.encryption = enumeration(node, path: at("encryption"), EncryptionMode.self) }
        if let node = fields["spn_service"] { result.spnService = enumeration(node, path: at("spn_service"), SPNService.self) }
        if let node = fields["allow_unencrypted"] { result.allowUnencrypted = bool(node, path: at("allow_unencrypted")) }
        if let node = fields["kerberos_delegation"] { result.kerberosDelegation = bool(node, path: at("kerberos_delegation")) }
        if let node = fields["operation_timeout"] { result.operationTimeout = seconds(node, path: at("operation_timeout")) }
        if let node = fields["connect_timeout"] { result.connectTimeout = seconds(node, path: at("connect_timeout")) }

        if let node = fields["credential"], let name = string(node, path: at("credential")) {
            if definedCredentialNames.contains(name) {
                result.credential = name
            } else {
                addError(at("credential"), node, "credential \"\(name)\" is not defined\(didYouMean(name, among: definedCredentialNames))",
                         fix: "add \"\(name)\" under \"credentials\" or fix the name")
            }
        }
        if let node = fields["route"], let name = string(node, path: at("route")) {
            if definedRouteNames.contains(name) || name == Route.implicitDirectName {
                result.route = name
            } else {
                addError(at("route"), node, "route \"\(name)\" is not defined\(didYouMean(name, among: definedRouteNames.union([Route.implicitDirectName])))",
                         fix: "add \"\(name)\" under \"routes\" or fix the name")
            }
        }
        if let node = fields["groups"] {
            if case .array(let elements) = node.value {
                var groups: [String] = []
                for (index, element) in elements.enumerated() {
                    let elementPath = JSONPath.index(at("groups"), index)
                    if let group = string(element, path: elementPath),
                       checkName(group, path: elementPath, node: element, what: "group"),
                       !groups.contains(group) {
                        groups.append(group)
                    }
                }
                result.groups = groups
            } else {
                addError(at("groups"), node, "expected an array of group names, found \(node.typeDescription)",
                         fix: "write \"groups\": [\"web\", \"iis\"]")
            }
        }
        if let node = fields["tls"], let tlsFields = object(node, path: at("tls"), allowedKeys: InventoryKeys.tls, what: "tls") {
            result.tls = parseTLS(tlsFields, path: at("tls"))
        }
        if let node = fields["spn"], let text = string(node, path: at("spn")) {
            if text.contains("/") && !text.contains(where: \.isWhitespace) {
                result.spn = text
            } else {
                addError(at("spn"), node, "\"\(text)\" is not a service principal name",
                         fix: "write SERVICE/host, e.g. \"HTTP/web01.corp.example.com\"")
            }
        }
        if let node = fields["path"], let text = string(node, path: at("path")) {
            if text.hasPrefix("/") && !text.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" }) {
                result.path = text
            } else {
                addError(at("path"), node, "\"\(text)\" is not a URL path", fix: "write a path starting with /, e.g. \"/wsman\"")
            }
        }
        return result
    }

    private mutating func parseTLS(_ fields: ObjectFields, path: String) -> TLSFields {
        var result = TLSFields()
        if let node = fields["ca_file"], let file = string(node, path: JSONPath.key(path, "ca_file")) {
            result.caFile = resolveFilePath(file)
        }
        if let node = fields["fingerprint_sha256"], let text = string(node, path: JSONPath.key(path, "fingerprint_sha256")) {
            let hex = text.replacingOccurrences(of: ":", with: "").lowercased()
            if hex.count == 64 && hex.allSatisfy(\.isHexDigit) {
                result.fingerprintSHA256 = hex
            } else {
                addError(JSONPath.key(path, "fingerprint_sha256"), node, "\"\(text)\" is not a SHA-256 fingerprint",
                         fix: "write the certificate's 64 hex digits, with or without colons (openssl x509 -noout -fingerprint -sha256)")
            }
        }
        if let node = fields["verify"], let verify = bool(node, path: JSONPath.key(path, "verify")) {
            result.verify = verify
            if !verify {
                addWarning(JSONPath.key(path, "verify"), node, "certificate verification is off; anyone on the path can impersonate the server",
                           fix: "set ca_file or fingerprint_sha256 and remove \"verify\": false")
            }
        }
        return result
    }

    // MARK: - Value checks

    /// Host, group and route names appear in target expressions, so they may not contain its operators.
    private mutating func checkName(_ name: String, path: String, node: JSONNode, what: String) -> Bool {
        if name.isEmpty {
            addError(path, node, "the \(what) name is empty", fix: "give the \(what) a name")
            return false
        }
        if let bad = name.unicodeScalars.first(where: { TargetSyntax.reservedScalars.contains($0) || $0.properties.isWhitespace }) {
            let shown = bad.properties.isWhitespace ? "whitespace" : "'\(bad)'"
            addError(path, node, "the \(what) name \"\(name)\" contains \(shown), which has a meaning in target expressions",
                     fix: what == "host"
                        ? "rename the host with letters, digits, '.', '-' and '_'; put the real DNS name or IP in \"address\""
                        : "rename the \(what) with letters, digits, '.', '-' and '_'")
            return false
        }
        if name.lowercased() == "all" && what != "route" {
            addError(path, node, "\"\(name)\" is reserved (the target \"all\" means every host)", fix: "choose another \(what) name")
            return false
        }
        return true
    }

    private mutating func checkAddress(_ text: String, path: String, node: JSONNode) -> String? {
        var address = text
        if address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
        let fix = "write a DNS name or an IP address only; set port, transport and path in their own keys"
        if address.isEmpty {
            addError(path, node, "the address is empty", fix: "write a DNS name or IP address, or remove \"address\" to use the name")
            return nil
        }
        if address.containsAnyASCII(of: "/") {
            addError(path, node, "\"\(text)\" is a URL, not an address", fix: fix)
            return nil
        }
        if address.containsAnyASCII(of: ":") && IPAddress.parseIPv6(address) == nil {
            addError(path, node, "\"\(text)\" is not a host name or IP address (a port belongs in \"port\")", fix: fix)
            return nil
        }
        if address.containsAnyASCII(of: "@?#") || address.unicodeScalars.contains(where: \.properties.isWhitespace) {
            addError(path, node, "\"\(text)\" is not a host name or IP address", fix: fix)
            return nil
        }
        return address
    }

    private func isEnvironmentVariableName(_ name: String) -> Bool {
        guard let first = name.first, !first.isASCIIDigit else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    private func resolveFilePath(_ path: String) -> String {
        if path.hasPrefix("~/") { return (path as NSString).expandingTildeInPath }
        if path.hasPrefix("/") { return path }
        guard let baseDirectory else { return path }
        return (baseDirectory as NSString).appendingPathComponent(path)
    }

    private func didYouMean(_ name: String, among candidates: Set<String>) -> String {
        let close = NameSuggestions.closeMatches(for: name, among: Array(candidates))
        return close.isEmpty ? "" : " — did you mean \(close.joined(separator: ", "))?"
    }

    // MARK: - Typed readers (each reports its own error and returns nil on failure)

    struct ObjectFields {
        /// Members with allowed keys, first occurrence only, in file order.
        var members: [JSONMember]
        var byKey: [String: JSONNode]
        subscript(key: String) -> JSONNode? { byKey[key] }
    }

    /// Checks that `node` is an object, has no duplicate keys and (if `allowedKeys` is given) no unknown keys.
    private mutating func object(_ node: JSONNode, path: String, allowedKeys: [String]?, what: String) -> ObjectFields? {
        guard case .object(let members) = node.value else {
            addError(path, node, "expected \(what) as an object { … }, found \(node.typeDescription)", fix: "write an object in braces")
            return nil
        }
        var byKey: [String: JSONNode] = [:]
        var accepted: [JSONMember] = []
        for member in members {
            if byKey[member.key] != nil {
                addError(JSONPath.key(path, member.key), member.value, "duplicate key \"\(member.key)\"", fix: "keep one of them")
                continue
            }
            if let allowedKeys, !allowedKeys.contains(member.key) {
                let close = NameSuggestions.closeMatches(for: member.key, among: allowedKeys)
                let fix = close.isEmpty
                    ? "remove it; allowed here: \(allowedKeys.joined(separator: ", "))"
                    : "did you mean \"\(close[0])\"? Allowed here: \(allowedKeys.joined(separator: ", "))"
                addError(JSONPath.key(path, member.key), member.value, "unknown key \"\(member.key)\"", fix: fix)
                continue
            }
            byKey[member.key] = member.value
            accepted.append(member)
        }
        return ObjectFields(members: accepted, byKey: byKey)
    }

    private mutating func string(_ node: JSONNode, path: String) -> String? {
        if case .string(let text) = node.value { return text }
        let fix: String
        if case .number(_, _, let text) = node.value { fix = "write it in quotes: \"\(text)\"" } else { fix = "write a string in double quotes" }
        addError(path, node, "expected a string, found \(node.typeDescription)", fix: fix)
        return nil
    }

    private mutating func bool(_ node: JSONNode, path: String) -> Bool? {
        if case .bool(let value) = node.value { return value }
        let fix: String
        if case .string(let text) = node.value, ["true", "false"].contains(text.lowercased()) {
            fix = "write \(text.lowercased()) without quotes"
        } else {
            fix = "write true or false"
        }
        addError(path, node, "expected true or false, found \(node.typeDescription)", fix: fix)
        return nil
    }

    private mutating func integer(_ node: JSONNode, path: String, in range: ClosedRange<Int>, what: String) -> Int? {
        switch node.value {
        case .number(let value, let isInteger, let text):
            if isInteger, value >= Double(range.lowerBound), value <= Double(range.upperBound) { return Int(value) }
            addError(path, node, "\(text) is not \(what) (\(range.lowerBound)–\(range.upperBound))",
                     fix: "write a whole number from \(range.lowerBound) to \(range.upperBound)")
        case .string(let text) where Int(text) != nil:
            addError(path, node, "expected \(what) as a number, found \(node.typeDescription)", fix: "write \(text) without quotes")
        default:
            addError(path, node, "expected \(what) as a number, found \(node.typeDescription)",
                     fix: "write a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return nil
    }

    private mutating func seconds(_ node: JSONNode, path: String) -> Double? {
        switch node.value {
        case .number(let value, _, let text):
            if value > 0 && value <= 86_400 { return value }
            addError(path, node, "\(text) is not a usable timeout", fix: "write a number of seconds greater than 0 (at most 86400)")
        case .string(let text) where Double(text) != nil:
            addError(path, node, "expected seconds as a number, found \(node.typeDescription)", fix: "write \(text) without quotes")
        default:
            addError(path, node, "expected seconds as a number, found \(node.typeDescription)", fix: "write a number of seconds, e.g. 20")
        }
        return nil
    }

    private mutating func enumeration<E: RawRepresentable & CaseIterable>(_ node: JSONNode, path: String, _ type: E.Type) -> E?
        where E.RawValue == String {
        let choices = E.allCases.map(\.rawValue)
        guard case .string(let text) = node.value else {
            addError(path, node, "expected one of \(choices.joined(separator: ", ")), found \(node.typeDescription)",
                     fix: "write one of them in double quotes")
            return nil
        }
        if let value = E(rawValue: text) { return value }
        let close = NameSuggestions.closeMatches(for: text, among: choices)
        addError(path, node, "\"\(text)\" is not one of \(choices.joined(separator: ", "))",
                 fix: close.isEmpty ? "fix the value" : "fix the value (did you mean \(close[0])?)")
        return nil
    }

    // MARK: - Issue collection

    private func position(of offset: Int) -> (line: Int, column: Int) {
        // Binary search the line, then count characters from the line start.
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        var column = 1
        var index = lineStarts[low]
        while index < offset && index < bytes.count {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        return (low + 1, column)
    }

    private mutating func addError(_ path: String, _ node: JSONNode, _ message: String, fix: String) {
        let (line, column) = position(of: node.offset)
        errors.append((node.offset, InventoryIssue(file: fileName, path: path, line: line, column: column, message: message, fix: fix)))
    }

    private mutating func addWarning(_ path: String, _ node: JSONNode, _ message: String, fix: String) {
        let (line, column) = position(of: node.offset)
        warnings.append((node.offset, InventoryIssue(file: fileName, path: path, line: line, column: column, message: message, fix: fix)))
    }

    /// Issues in file order (stable for equal offsets).
    private func sorted(_ list: [(offset: Int, issue: InventoryIssue)]) -> [InventoryIssue] {
        list.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element.issue)
    }

    private func finishedError() -> InventoryError {
        InventoryError(file: fileName, issues: sorted(errors))
    }
}

extension JSONNode.Value {
    /// The kind of a value without its content (for values that must not be echoed).
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
