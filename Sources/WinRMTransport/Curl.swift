import CCurl
import CShims
import Foundation

/// The one Swift type that owns libcurl: every unsafe call goes through here and
/// every libcurl code comes back as a typed value.
public enum Curl {
    private static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func ensureInitialised() { _ = initialised }

    public static var versionDescription: String {
        String(cString: curl_version())
    }

    static func describe(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    static func describe(_ code: CURLMcode) -> String {
        String(cString: curl_multi_strerror(code))
    }

    /// An easy handle: one transfer's settings. Used only on the event loop's thread.
    final class Easy {
        let handle: UnsafeMutableRawPointer
        private var headerList: UnsafeMutablePointer<curl_slist>?
        /// The headers `headerList` holds: sealed requests repeat theirs, so the list is rebuilt only on change.
        private var listedHeaders: [String] = []

        init() {
            Curl.ensureInitialised()
            guard let handle = curl_easy_init() else {
                fatalError("curl_easy_init failed: out of memory")
            }
            self.handle = handle
        }

        deinit {
            curl_slist_free_all(headerList)
            curl_easy_cleanup(handle)
        }

        func set(_ option: CURLoption, _ value: Int) {
            check(wf_easy_setopt_long(handle, option, value), option)
        }

        func set(_ option: CURLoption, _ value: Bool) {
            set(option, value ? 1 : 0)
        }

        /// libcurl copies string options, so the Swift string need not outlive the call.
        func set(_ option: CURLoption, _ value: String?) {
            if let value {
                check(value.withCString { wf_easy_setopt_string(handle, option, $0) }, option)
            } else {
                check(wf_easy_setopt_string(handle, option, nil), option)
            }
        }

        func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) {
            check(wf_easy_setopt_pointer(handle, option, pointer), option)
        }

        /// The size of the body that the read function will deliver (sent as Content-Length).
        func setPostBodySize(_ size: Int) {
            check(wf_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(size)), CURLOPT_POSTFIELDSIZE_LARGE)
        }

        /// The body for the next request, copied by libcurl and sent together with the request head
        /// (one segment on the wire for a small body). libcurl may send it again on a new connection.
        func setPostBody(_ body: Data) {
            setPostBodySize(body.count)
            body.withUnsafeBytes { raw in
                check(wf_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS,
                                             UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)),
                      CURLOPT_COPYPOSTFIELDS)
            }
        }

        /// Takes the body from the read callback again (after `setPostBody`).
        func setStreamedPostBody(size: Int) {
            check(wf_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, nil), CURLOPT_POSTFIELDS)
            setPostBodySize(size)
        }

        func setReadFunction(_ fn: @escaping @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int) {
            check(wf_easy_setopt_read_function(handle, fn), CURLOPT_READFUNCTION)
        }

        func setSeekFunction(_ fn: @escaping @convention(c) (UnsafeMutableRawPointer?, curl_off_t, Int32) -> Int32) {
            check(wf_easy_setopt_seek_function(handle, fn), CURLOPT_SEEKFUNCTION)
        }

        func setCloseSocketFunction(_ fn: @escaping @convention(c) (UnsafeMutableRawPointer?, curl_socket_t) -> Int32) {
            check(wf_easy_setopt_closesocket_function(handle, fn), CURLOPT_CLOSESOCKETFUNCTION)
        }

        func setHeaders(_ headers: [String]) {
            if headers == listedHeaders && headerList != nil { return }
            listedHeaders = headers
            let old = headerList
            var list: UnsafeMutablePointer<curl_slist>?
            for header in headers {
                list = curl_slist_append(list, header)
            }
            check(wf_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, list.map { UnsafeMutableRawPointer($0) }), CURLOPT_HTTPHEADER)
            headerList = list
            curl_slist_free_all(old)
        }

        func setWriteFunction(_ fn: @escaping @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int) {
            check(wf_easy_setopt_write_function(handle, fn), CURLOPT_WRITEFUNCTION)
        }

        func setHeaderFunction(_ fn: @escaping @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int) {
            check(wf_easy_setopt_header_function(handle, fn), CURLOPT_HEADERFUNCTION)
        }

        func info(_ info: CURLINFO) -> Int {
            var value = 0
            _ = wf_easy_getinfo_long(handle, info, &value)
            return value
        }

        func infoString(_ info: CURLINFO) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard wf_easy_getinfo_string(handle, info, &value) == CURLE_OK, let value else { return nil }
            return String(cString: value)
        }

        func infoMicroseconds(_ info: CURLINFO) -> Int64 {
            var value: curl_off_t = 0
            _ = wf_easy_getinfo_off_t(handle, info, &value)
            return Int64(value)
        }

        /// The server certificate chain as PEM texts (needs CURLOPT_CERTINFO before the handshake).
        func certificatesPEM() -> [String] {
            var raw: UnsafeMutableRawPointer?
            guard wf_easy_getinfo_pointer(handle, CURLINFO_CERTINFO, &raw) == CURLE_OK, let raw else { return [] }
            let info = raw.assumingMemoryBound(to: curl_certinfo.self).pointee
            var result: [String] = []
            for index in 0..<Int(info.num_of_certs) {
                var entry = info.certinfo[index]
                while let node = entry {
                    let text = String(cString: node.pointee.data)
                    if text.hasPrefix("Cert:") {
                        result.append(String(text.dropFirst(5)))
                    }
                    entry = node.pointee.next
                }
            }
            return result
        }

        private func check(_ code: CURLcode, _ option: CURLoption) {
            // Setting an option fails only for a programming error or a libcurl built without the feature.
            if code != CURLE_OK {
                FileHandle.standardError.write(Data("winfleet: libcurl refused option \(option.rawValue): \(Curl.describe(code))\n".utf8))
            }
        }
    }

    /// A multi handle and its connection cache. Connections share one only when libcurl could not
    /// hand one's TCP connection to another (`CurlEventLoop.joinSharedMulti`): an NTLM or Kerberos
    /// context belongs to exactly one connection.
    final class Multi {
        let handle: UnsafeMutableRawPointer

        init() {
            Curl.ensureInitialised()
            guard let handle = curl_multi_init() else {
                fatalError("curl_multi_init failed: out of memory")
            }
            self.handle = handle
        }

        deinit {
            curl_multi_cleanup(handle)
        }

        func add(_ easy: Easy) -> CURLMcode { curl_multi_add_handle(handle, easy.handle) }

        func setMaximumCachedConnections(_ count: Int) {
            _ = wf_multi_setopt_long(handle, CURLMOPT_MAXCONNECTS, count)
        }
        func remove(_ easy: Easy) { curl_multi_remove_handle(handle, easy.handle) }

        func setContext(_ pointer: UnsafeMutableRawPointer?) {
            _ = wf_multi_setopt_pointer(handle, CURLMOPT_SOCKETDATA, pointer)
            _ = wf_multi_setopt_pointer(handle, CURLMOPT_TIMERDATA, pointer)
        }

        func setCallbacks(
            socket: @escaping @convention(c) (UnsafeMutableRawPointer?, curl_socket_t, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32,
            timer: @escaping @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32
        ) {
            _ = wf_multi_setopt_socket_function(handle, socket)
            _ = wf_multi_setopt_timer_function(handle, timer)
        }

        func socketAction(_ socket: curl_socket_t, _ events: Int32) {
            var running: Int32 = 0
            _ = curl_multi_socket_action(handle, socket, events, &running)
        }

        /// Completed transfers: the easy handle and its result code.
        func completed() -> [(UnsafeMutableRawPointer, CURLcode)] {
            var result: [(UnsafeMutableRawPointer, CURLcode)] = []
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(handle, &remaining) {
                if message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle {
                    result.append((easy, message.pointee.data.result))
                }
            }
            return result
        }
    }
}
