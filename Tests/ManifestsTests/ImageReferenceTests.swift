import Testing
@testable import Manifests

@Suite struct ImageReferenceTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        var text: String
        var registry: String
        var repository: String
        var tag: String?
        var digest: String?
        var familiar: String
        var testDescription: String { text }
    }

    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    static let valid: [Valid] = [
        Valid(text: "nginx", registry: "docker.io", repository: "library/nginx", familiar: "nginx"),
        Valid(text: "nginx:1.25", registry: "docker.io", repository: "library/nginx", tag: "1.25", familiar: "nginx"),
        Valid(text: "docker.io/library/nginx:1.25", registry: "docker.io", repository: "library/nginx", tag: "1.25", familiar: "nginx"),
        Valid(text: "index.docker.io/library/nginx", registry: "docker.io", repository: "library/nginx", familiar: "nginx"),
        Valid(text: "bitnami/redis:7.2", registry: "docker.io", repository: "bitnami/redis", tag: "7.2", familiar: "bitnami/redis"),
        Valid(text: "registry.example.com/oms/app:1.4.2", registry: "registry.example.com", repository: "oms/app",
              tag: "1.4.2", familiar: "registry.example.com/oms/app"),
        Valid(text: "localhost:5000/app", registry: "localhost:5000", repository: "app", familiar: "localhost:5000/app"),
        Valid(text: "localhost/app:dev", registry: "localhost", repository: "app", tag: "dev", familiar: "localhost/app"),
        Valid(text: "registry.example.com:8443/team/sub/app:v1_2-rc.3", registry: "registry.example.com:8443",
              repository: "team/sub/app", tag: "v1_2-rc.3", familiar: "registry.example.com:8443/team/sub/app"),
        Valid(text: "[::1]:5000/app:1", registry: "[::1]:5000", repository: "app", tag: "1", familiar: "[::1]:5000/app"),
        Valid(text: "ghcr.io/org/my_app__x-y--z:latest", registry: "ghcr.io", repository: "org/my_app__x-y--z",
              tag: "latest", familiar: "ghcr.io/org/my_app__x-y--z"),
        Valid(text: "nginx@" + digest, registry: "docker.io", repository: "library/nginx", digest: digest, familiar: "nginx"),
        Valid(text: "quay.io/app:1.0@" + digest, registry: "quay.io", repository: "app", tag: "1.0", digest: digest,
              familiar: "quay.io/app"),
        Valid(text: "Registry.Example.com/app", registry: "Registry.Example.com", repository: "app",
              familiar: "Registry.Example.com/app"),
    ]

    @Test(arguments: valid)
    func parsesAndNormalises(_ row: Valid) throws {
        let reference = try ImageReference.parse(row.text)
        #expect(reference.registry == row.registry)
        #expect(reference.repository == row.repository)
        #expect(reference.tag == row.tag)
        #expect(reference.digest == row.digest)
        #expect(reference.name == "\(row.registry)/\(row.repository)")
        #expect(reference.familiarName == row.familiar)
        // The description is the normalised form, and parsing it again is stable.
        #expect(try ImageReference.parse(reference.description) == reference)
    }

    @Test func shortAndLongNamesAreTheSameImage() throws {
        let forms = ["nginx", "library/nginx", "docker.io/library/nginx", "index.docker.io/library/nginx:1", "nginx:2"]
        let names = try Set(forms.map { try ImageReference.parse($0).name })
        #expect(names == ["docker.io/library/nginx"])
        #expect(try ImageReference.parse("user/nginx").name != ImageReference.parse("nginx").name)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var text: String
        var reason: ImageReferenceError.Reason
        var testDescription: String { text.isEmpty ? "(empty)" : text }
    }

    static let invalid: [Invalid] = [
        Invalid(text: "", reason: .empty),
        Invalid(text: ":1.0", reason: .empty),
        Invalid(text: "Nginx", reason: .uppercase("Nginx")),
        Invalid(text: "registry.example.com/OMS/app", reason: .uppercase("OMS")),
        Invalid(text: "app:-bad", reason: .invalidTag("-bad")),
        Invalid(text: "app:.bad", reason: .invalidTag(".bad")),
        Invalid(text: "app:" + String(repeating: "a", count: 129), reason: .invalidTag(String(repeating: "a", count: 129))),
        Invalid(text: "app@sha256:abc", reason: .invalidDigest("sha256:abc")),
        Invalid(text: "app@md5", reason: .invalidDigest("md5")),
        Invalid(text: "registry.example.com:99999/app", reason: .invalidPort("99999")),
        Invalid(text: "registry.example.com:/app", reason: .invalidPort("")),
        Invalid(text: "-bad.example.com/app", reason: .invalidHost("-bad.example.com")),
        Invalid(text: "registry.example.com//app", reason: .invalidPath("")),
        Invalid(text: "app/", reason: .invalidPath("")),
        Invalid(text: "a..b", reason: .invalidPath("a..b")),
        Invalid(text: "a___b", reason: .invalidPath("a___b")),
        Invalid(text: "app_", reason: .invalidPath("app_")),
        Invalid(text: "image with space", reason: .invalidPath("image with space")),
        Invalid(text: "{{ .Values.image }}", reason: .invalidPath("{{ .Values.image }}")),
        Invalid(text: String(repeating: "a", count: 256), reason: .nameTooLong),
    ]

    @Test(arguments: invalid)
    func rejectsWithReason(_ row: Invalid) {
        #expect(throws: ImageReferenceError(reference: row.text, reason: row.reason)) {
            try ImageReference.parse(row.text)
        }
    }

    @Test func errorMessagesNameTheProblem() {
        let error = ImageReferenceError(reference: "Registry/App", reason: .uppercase("App"))
        #expect(error.description.contains("'Registry/App'"))
        #expect(error.description.contains("lowercase"))
    }

    @Test func updatesParseTagAndDigest() throws {
        let update = try ImageUpdate(parsing: "nginx:1.25@" + Self.digest)
        #expect(update == ImageUpdate(image: "docker.io/library/nginx", tag: "1.25", digest: Self.digest))
        #expect(throws: ImageReferenceError.self) { try ImageUpdate(parsing: "nginx") }
    }
}
