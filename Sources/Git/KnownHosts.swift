import Foundation

/// SSH host-key verification against an OpenSSH `known_hosts` file (internal).
///
/// libgit2 1.5 trusts no SSH host key on its own (it calls the certificate callback with "not valid"
/// for every server), so the bot checks the key the server presented against `known_hosts` itself:
/// plain and hashed (`|1|salt|hash`) host names, `[host]:port`, `*`/`?` patterns and `!` negation,
/// and `@revoked` keys. `@cert-authority` lines are not supported (ignored).
enum KnownHosts {
    /// How OpenSSH names a host in `known_hosts`: `host`, or `[host]:port` off port 22.
    static func hostSpec(forURL url: String) -> String? {
        if let components = URLComponents(string: url), components.scheme?.lowercased() == "ssh", let host = components.host {
            if let port = components.port, port != 22 { return "[\(host)]:\(port)" }
            return host
        }
        // scp-like `user@host:path`
        guard !url.contains("://"), let colon = url.firstIndex(of: ":") else { return nil }
        let userHost = url[..<colon]
        return String(userHost.split(separator: "@").last ?? userHost)
    }

    enum Verdict: Equatable {
        case known, unknown, mismatch, revoked
    }

    /// Whether `text` (a known_hosts file) vouches for `key` (base64 blob) as the key of `spec`.
    static func verify(key: String, for spec: String, in text: String) -> Verdict {
        var sawHost = false
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var marker: String?
            if fields.first?.hasPrefix("@") == true { marker = fields.removeFirst() }
            guard fields.count >= 3, matches(spec, patterns: fields[0]) else { continue }
            if marker == "@revoked" {
                if fields[2] == key { return .revoked }
                continue
            }
            if marker != nil { continue }
            sawHost = true
            if fields[2] == key { return .known }
        }
        return sawHost ? .mismatch : .unknown
    }

    /// OpenSSH's host matching: any pattern matches and no negated pattern does.
    static func matches(_ spec: String, patterns: String) -> Bool {
        if patterns.hasPrefix("|1|") { return hashedMatches(spec, entry: patterns) }
        var matched = false
        for pattern in patterns.split(separator: ",") {
            let negated = pattern.hasPrefix("!")
            let glob = negated ? String(pattern.dropFirst()) : String(pattern)
            guard wildcardMatch(Array(glob.lowercased()), Array(spec.lowercased())) else { continue }
            if negated { return false }
            matched = true
        }
        return matched
    }

    /// OpenSSH patterns know only `*` (any run) and `?` (one character); `[` is literal (`[host]:port`).
    static func wildcardMatch(_ pattern: [Character], _ text: [Character]) -> Bool {
        var p = 0, t = 0, star: Int?, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] {
                p += 1; t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p; resume = t; p += 1
            } else if let star {
                p = star + 1; resume += 1; t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, host))`.
    static func hashedMatches(_ spec: String, entry: String) -> Bool {
        let parts = entry.split(separator: "|", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[0] == "1", let salt = Data(base64Encoded: String(parts[1])),
              let hash = Data(base64Encoded: String(parts[2])) else { return false }
        return SHA1.hmac(key: [UInt8](salt), message: Array(spec.utf8)) == [UInt8](hash)
    }

    /// The default file: `$HOME/.ssh/known_hosts`.
    static var defaultFile: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".ssh/known_hosts")
    }
}

/// SHA-1 and HMAC-SHA1, only for matching hashed `known_hosts` names (OpenSSH's format fixes the
/// algorithm; nothing here is used for integrity).
enum SHA1 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let b = chunk + i * 4
                w[i] = UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for i in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
            }
            h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d; h[4] = h[4] &+ e
        }
        return h.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - $0 * 8)) } }
    }

    static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = hash(block.map { $0 ^ 0x36 } + message)
        return hash(block.map { $0 ^ 0x5C } + inner)
    }
}
