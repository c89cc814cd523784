import CCurl
import CCurlShims

/// Process-wide libcurl state: `curl_global_init` runs once, before any handle exists.
public enum LibCurl {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    /// Make sure libcurl is initialised; cheap after the first call.
    public static func ensureInitialized() { _ = initialized }

    /// The version of the libcurl the process runs on, e.g. "7.88.1".
    public static var version: String {
        ensureInitialized()
        return String(cString: promobot_curl_version())
    }
}
