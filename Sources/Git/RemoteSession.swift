import CGit2
import CGitShims
import Foundation
import HTTP

/// State shared with libgit2's C callbacks through their `payload` pointer (internal).
///
/// Lives as long as the `RemoteSession` that owns it; only touched on the thread running the session.
final class CallbackContext {
    let credentials: EffectiveCredentials
    let verifyTLS: Bool
    /// For SSH remotes: how `known_hosts` names the server, and which file to read.
    let sshHostSpec: String?
    let knownHostsPath: String
    var credentialAttempts = 0
    var sideband = ""
    /// refname -> server status text for updates the server refused.
    var pushStatuses: [String: String] = [:]
    /// refname -> the old value libgit2 is about to send (from the advertisement on this connection).
    var expectedOld: [String: ObjectID?] = [:]
    /// Set by `push_negotiation` when the advertised old value differs from the lease.
    var leaseMismatch: (ref: String, actual: ObjectID?)?

    init(credentials: EffectiveCredentials, verifyTLS: Bool, sshHostSpec: String? = nil, knownHostsPath: String = KnownHosts.defaultFile) {
        self.credentials = credentials
        self.verifyTLS = verifyTLS
        self.sshHostSpec = sshHostSpec
        self.knownHostsPath = knownHostsPath
    }

    func acquire(_ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?, usernameFromURL: UnsafePointer<CChar>?, allowed: UInt32) -> Int32 {
        credentialAttempts += 1
        switch credentials {
        case .none:
            git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "the remote requires authentication and no credentials are configured")
            return GIT_EAUTH.rawValue
        case .userPass(let user, let password):
            guard credentialAttempts == 1 else {
                git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "the remote rejected the credentials (user \(user))")
                return GIT_EAUTH.rawValue
            }
            guard allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT.rawValue != 0 else {
                git_error_set_str(Int32(GIT_ERROR_NET.rawValue), "the remote does not accept username/password (token) authentication")
                return GIT_EAUTH.rawValue
            }
            return git_credential_userpass_plaintext_new(out, user, password)
        case .sshKey(let privateKey, let publicKey, let passphrase):
            // libgit2 may ask for the username first, then for the key: allow one of each.
            guard credentialAttempts <= 2 else {
                git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), "the remote rejected the SSH key")
                return GIT_EAUTH.rawValue
            }
            let user = usernameFromURL.map { String(cString: $0) } ?? "git"
            if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
                if privateKey.hasPrefix("-----BEGIN") {
                    return git_credential_ssh_key_memory_new(out, user, publicKey, privateKey, passphrase)
                }
                return git_credential_ssh_key_new(out, user, publicKey, privateKey, passphrase)
            }
            if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0 {
                return git_credential_username_new(out, user)
            }
            git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), "the remote does not accept SSH key authentication")
            return GIT_EAUTH.rawValue
        }
    }

    func certificateCheck(_ cert: UnsafeMutablePointer<git_cert>?, valid: Bool, host: String) -> Int32 {
        if let cert, cert.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 {
            return cert.withMemoryRebound(to: git_cert_hostkey.self, capacity: 1) { hostKeyCheck($0.pointee, host: host) }
        }
        if valid || !verifyTLS { return 0 }
        git_error_set_str(Int32(GIT_ERROR_SSL.rawValue),
                          "the certificate (or SSH host key) of \(host) could not be verified")
        return GIT_ECERTIFICATE.rawValue
    }

    /// libgit2 1.5 vouches for no SSH host key, so compare the presented key with `known_hosts`.
    private func hostKeyCheck(_ key: git_cert_hostkey, host: String) -> Int32 {
        if !verifyTLS { return 0 }
        func refuse(_ message: String) -> Int32 {
            git_error_set_str(Int32(GIT_ERROR_SSH.rawValue), message)
            return GIT_ECERTIFICATE.rawValue
        }
        let spec = sshHostSpec ?? host
        guard key.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = key.hostkey, key.hostkey_len > 0 else {
            return refuse("the SSH server \(spec) presented no host key to verify")
        }
        let presented = Data(bytes: raw, count: key.hostkey_len).base64EncodedString()
        let text = (try? String(contentsOfFile: knownHostsPath, encoding: .utf8)) ?? ""
        switch KnownHosts.verify(key: presented, for: spec, in: text) {
        case .known:
            return 0
        case .unknown:
            return refuse("the SSH host key of \(spec) is not in \(knownHostsPath): check its fingerprint, then add it (ssh-keyscan)")
        case .revoked:
            return refuse("the SSH host key of \(spec) is marked @revoked in \(knownHostsPath)")
        case .mismatch:
            return refuse("the SSH host key of \(spec) does not match \(knownHostsPath): refusing to connect (the key changed, or someone is in the middle)")
        }
    }
}

/// One connection to a remote through an anonymous (in-memory, never saved) libgit2 remote (internal).
///
/// Owns the `git_remote` and frees it in `deinit`. Not thread-safe; used under `CachedRepository`'s lock.
final class RemoteSession {
    let remote: OpaquePointer
    let context: CallbackContext
    let redactedURL: String
    let secrets: [String]
    let options: GitTransportOptions
    private var callbacks = git_remote_callbacks()
    private var proxy = git_proxy_options()
    /// `Authorization: Basic …` for token (user/password) remotes over http(s), sent with the first
    /// request. Without it libgit2 asks anonymously, takes GitLab's 401, and asks again: one wasted
    /// round trip per connection. In memory only; with it, off-site redirects are refused so the header
    /// can never follow a redirect to another host.
    private let authorizationHeaders: [String]

    init(repository: RepositoryHandle, remote gitRemote: GitRemote, options: GitTransportOptions) throws(GitError) {
        redactedURL = gitRemote.redactedURL
        if case .userPass(let user, let password) = gitRemote.effectiveCredentials, gitRemote.isSmartHTTP {
            let encoded = Data("\(user):\(password)".utf8).base64EncodedString()
            authorizationHeaders = ["Authorization: Basic \(encoded)"]
            secrets = gitRemote.secrets + [encoded]
        } else {
            authorizationHeaders = []
            secrets = gitRemote.secrets
        }
        self.options = options
        context = CallbackContext(credentials: gitRemote.effectiveCredentials, verifyTLS: options.verifyTLS,
                                  sshHostSpec: KnownHosts.hostSpec(forURL: gitRemote.redactedURL),
                                  knownHostsPath: options.knownHostsPath ?? KnownHosts.defaultFile)
        // Anonymous (never saved), and deaf to `url.<base>.insteadOf` in the user's git config: a rewrite
        // there could send the token to another host. Skipping it also skips libgit2's regex walk over
        // every config entry, whose PCRE2 match data libgit2 1.5 leaks (~20 KiB per remote).
        var createOptions = git_remote_create_options()
        git_remote_create_options_init(&createOptions, UInt32(GIT_REMOTE_CREATE_OPTIONS_VERSION))
        createOptions.repository = repository.pointer
        createOptions.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF.rawValue | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC.rawValue
        var created: OpaquePointer?
        try check(git_remote_create_with_opts(&created, redactedURL, &createOptions),
                  operation: "git_remote_create_with_opts", remote: redactedURL, secrets: secrets)
        guard let created else {
            throw GitError(kind: .other, operation: "git_remote_create_with_opts", message: "no remote", remote: redactedURL)
        }
        remote = created

        git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION))
        callbacks.payload = Unmanaged.passUnretained(context).toOpaque()
        callbacks.credentials = { out, _, usernameFromURL, allowed, payload in
            guard let payload else { return GIT_EUSER.rawValue }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            return context.acquire(out, usernameFromURL: usernameFromURL, allowed: allowed)
        }
        callbacks.certificate_check = { cert, valid, host, payload in
            guard let payload else { return GIT_EUSER.rawValue }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            return context.certificateCheck(cert, valid: valid != 0, host: host.map { String(cString: $0) } ?? "?")
        }
        callbacks.sideband_progress = { text, length, payload in
            guard let payload, let text, length > 0 else { return 0 }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: text, count: Int(length))
            context.sideband += String(decoding: bytes, as: UTF8.self)
            return 0
        }
        callbacks.push_update_reference = { refname, status, payload in
            guard let payload, let refname, let status else { return 0 }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            context.pushStatuses[String(cString: refname)] = String(cString: status)
            return 0
        }
        callbacks.push_negotiation = { updates, count, payload in
            guard let payload, let updates else { return 0 }
            let context = Unmanaged<CallbackContext>.fromOpaque(payload).takeUnretainedValue()
            for index in 0..<count {
                guard let update = updates[index] else { continue }
                let ref = String(cString: update.pointee.dst_refname)
                guard let expected = context.expectedOld[ref] else { continue }
                let old = ObjectID(update.pointee.src)
                let actual: ObjectID? = old.isZero ? nil : old
                if actual != expected {
                    context.leaseMismatch = (ref, actual)
                    git_error_set_str(Int32(GIT_ERROR_REFERENCE.rawValue), "lease check failed for \(ref)")
                    return GIT_EUSER.rawValue
                }
            }
            return 0
        }

        // libgit2 opens the connection on this thread; promobot's stream picks these up there.
        func milliseconds(_ duration: Duration) -> Int32 {
            Int32(clamping: duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        }
        promobot_git_set_stream_timeouts(milliseconds(options.connectTimeout), milliseconds(options.ioTimeout))

        git_proxy_options_init(&proxy, UInt32(GIT_PROXY_OPTIONS_VERSION))
        proxy.type = options.proxyFromEnvironment ? GIT_PROXY_AUTO : GIT_PROXY_NONE
    }

    deinit {
        git_remote_disconnect(remote)
        git_remote_free(remote)
    }

    /// Like `check`, and marks the error transient when it is (see `TransientFailure`); reads libgit2's
    /// and the stream's thread-local records right after the failing call.
    private func checked(_ code: Int32, _ operation: String) throws(GitError) {
        guard code < 0 else { return }
        var error = GitError.fromLastError(code: code, operation: operation, remote: redactedURL, secrets: secrets,
                                           unclassified: .network)
        error.transient = TransientFailure.classify(kind: error.kind, message: error.message,
                                                    observation: .current())
        throw error
    }

    /// Takes a permit for the next network step (see `GitTransportOptions.requestPermit`) and clears the
    /// stream's record, so a failure is judged by what this step saw.
    private func begin(_ kind: GitRequest.Kind) throws {
        try options.requestPermit?.take(GitRequest(kind: kind, remote: redactedURL))
        TransientFailure.Observation.reset()
    }

    /// Connects and returns the advertised refs (name -> oid). One round trip.
    /// - Throws: `GitError`, or the request permit's error.
    func connectAndList(direction: git_direction) throws -> [String: ObjectID] {
        try begin(direction == GIT_DIRECTION_PUSH ? .pushRefListing : .fetchRefListing)
        var connectOptions = git_remote_connect_options()
        git_remote_connect_options_init(&connectOptions, UInt32(GIT_REMOTE_CONNECT_OPTIONS_VERSION))
        connectOptions.callbacks = callbacks
        connectOptions.proxy_opts = proxy
        connectOptions.follow_redirects = redirectPolicy
        try withStrArray(authorizationHeaders) { headers throws(GitError) in
            connectOptions.custom_headers = headers.pointee
            try checked(git_remote_connect_ext(remote, direction, &connectOptions),
                        "git_remote_connect (\(direction == GIT_DIRECTION_PUSH ? "push" : "fetch"))")
        }
        var heads: UnsafeMutablePointer<UnsafePointer<git_remote_head>?>?
        var count = 0
        try checked(git_remote_ls(&heads, &count, remote), "git_remote_ls")
        var result: [String: ObjectID] = [:]
        if let heads {
            for index in 0..<count {
                guard let head = heads[index] else { continue }
                result[String(cString: head.pointee.name)] = ObjectID(head.pointee.oid)
            }
        }
        return result
    }

    /// Downloads the objects needed for `refspecs` over the current connection; refs are not touched.
    /// - Throws: `GitError`, or the request permit's error.
    func download(refspecs: [String]) throws {
        try begin(.fetch)
        var fetchOptions = git_fetch_options()
        git_fetch_options_init(&fetchOptions, UInt32(GIT_FETCH_OPTIONS_VERSION))
        fetchOptions.callbacks = callbacks
        fetchOptions.proxy_opts = proxy
        fetchOptions.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE
        fetchOptions.update_fetchhead = 0
        fetchOptions.prune = GIT_FETCH_NO_PRUNE
        fetchOptions.follow_redirects = redirectPolicy
        try withStrArray(authorizationHeaders) { headers throws(GitError) in
            fetchOptions.custom_headers = headers.pointee
            try withStrArray(refspecs) { array throws(GitError) in
                try checked(git_remote_download(remote, array, &fetchOptions), "git_remote_download")
            }
        }
    }

    /// Sends `refspecs` over the current (push) connection. Server refusals land in `context.pushStatuses`.
    /// - Throws: `GitError`, or the request permit's error.
    func upload(refspecs: [String]) throws {
        try begin(.push)
        var pushOptions = git_push_options()
        git_push_options_init(&pushOptions, UInt32(GIT_PUSH_OPTIONS_VERSION))
        pushOptions.callbacks = callbacks
        pushOptions.proxy_opts = proxy
        pushOptions.pb_parallelism = 1
        pushOptions.follow_redirects = redirectPolicy
        try withStrArray(authorizationHeaders) { headers throws(GitError) in
            pushOptions.custom_headers = headers.pointee
            try withStrArray(refspecs) { array throws(GitError) in
                try checked(git_remote_upload(remote, array, &pushOptions), "git_remote_upload")
            }
        }
    }

    /// Off-site redirects are refused whenever the credentials travel in a header of our own.
    private var redirectPolicy: git_remote_redirect_t {
        authorizationHeaders.isEmpty ? GIT_REMOTE_REDIRECT_INITIAL : GIT_REMOTE_REDIRECT_NONE
    }

    /// Server text captured from the sideband (hook output), trimmed and redacted.
    var serverText: String {
        let lines = context.sideband
            .replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return Redaction.redact(text: lines.joined(separator: "\n"), secrets: secrets)
    }
}
