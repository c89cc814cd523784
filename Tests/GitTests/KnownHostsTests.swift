import Foundation
import Testing
@testable import Git

/// Reading OpenSSH `known_hosts`, without a server.
struct KnownHostsTests {
    static let key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C7okWi4PyDsbdGNo"
    static let other = "AAAAC3NzaC1lZDI1NTE5AAAAIBBBBnkVzrm0SdG6UOoqKLsabgH5C7okWi4PyDsbdGNo"

    @Test(arguments: [
        ("ssh://git@gitlab.example.com/group/repo.git", "gitlab.example.com"),
        ("ssh://git@gitlab.example.com:22/group/repo.git", "gitlab.example.com"),
        ("ssh://git@127.0.0.1:2222/srv/repo.git", "[127.0.0.1]:2222"),
        ("git@gitlab.example.com:group/repo.git", "gitlab.example.com"),
    ])
    func hostSpecs(url: String, spec: String) {
        #expect(KnownHosts.hostSpec(forURL: url) == spec)
    }

    @Test func plainPatternsNegationAndMarkers() {
        let text = """
        # comment
        gitlab.example.com,10.0.0.5 ssh-ed25519 \(Self.key)
        *.corp.example,!evil.corp.example ssh-ed25519 \(Self.key)
        @revoked old.example.com ssh-ed25519 \(Self.key)
        old.example.com ssh-ed25519 \(Self.key)
        @cert-authority *.example.com ssh-ed25519 \(Self.other)
        """
        #expect(KnownHosts.verify(key: Self.key, for: "gitlab.example.com", in: text) == .known)
        #expect(KnownHosts.verify(key: Self.key, for: "GITLAB.example.com", in: text) == .known)
        #expect(KnownHosts.verify(key: Self.other, for: "gitlab.example.com", in: text) == .mismatch)
        #expect(KnownHosts.verify(key: Self.key, for: "git.corp.example", in: text) == .known)
        #expect(KnownHosts.verify(key: Self.key, for: "evil.corp.example", in: text) == .unknown)
        #expect(KnownHosts.verify(key: Self.key, for: "old.example.com", in: text) == .revoked)
        #expect(KnownHosts.verify(key: Self.other, for: "nobody.example.com", in: text) == .unknown, "CA lines are not host keys")
        #expect(KnownHosts.verify(key: Self.key, for: "[gitlab.example.com]:2222", in: text) == .unknown, "a port is a different host")
        #expect(KnownHosts.verify(key: Self.key, for: "[10.0.0.5]:2222", in: "[10.0.0.5]:2222 ssh-ed25519 \(Self.key)\n") == .known,
                "brackets are literal, not a character class")
        #expect(KnownHosts.matches("a.b.example", patterns: "?.*.example") && !KnownHosts.matches("ab.example", patterns: "?.*.example"))
    }

    /// A line hashed by `ssh-keygen -H` for `[127.0.0.1]:2222`.
    @Test func hashedNames() {
        let text = "|1|lpnPosnDNVVSk6E/IUtNBTJZlYM=|yyUrwVR12SqNO1jI1OR/j9SkjNo= ssh-ed25519 \(Self.key)\n"
        #expect(KnownHosts.verify(key: Self.key, for: "[127.0.0.1]:2222", in: text) == .known)
        #expect(KnownHosts.verify(key: Self.other, for: "[127.0.0.1]:2222", in: text) == .mismatch)
        #expect(KnownHosts.verify(key: Self.key, for: "127.0.0.1", in: text) == .unknown)
    }

    /// FIPS 180 and RFC 2202 vectors.
    @Test func sha1AndHMAC() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(SHA1.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))) == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(hex(SHA1.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        #expect(hex(SHA1.hmac(key: [UInt8](repeating: 0xaa, count: 80), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }
}
