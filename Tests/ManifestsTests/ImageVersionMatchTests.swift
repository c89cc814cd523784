import Testing
@testable import Manifests

/// `ImageVersion.matches`: the same build as far as both versions say.
@Suite struct ImageVersionMatchTests {
    static let a = "sha256:" + String(repeating: "a", count: 64)
    static let b = "sha256:" + String(repeating: "b", count: 64)

    @Test(arguments: [
        ("1.5.0", "1.5.0", true),
        ("1.5.0", "1.5.1", false),
        ("1.5.0", "1.5.0@\(a)", true),           // one side pins: the tag decides
        ("1.5.0@\(a)", "1.5.0@\(a)", true),
        ("1.5.0@\(a)", "1.5.0@\(b)", false),     // two pins: the digest decides
        ("@\(a)", "1.5.0@\(a)", true),
        ("@\(a)", "1.5.0", false),               // nothing in common to compare
        ("1.5.0@\(a)", "1.6.0@\(a)", false),
    ])
    func matches(left: String, right: String, expected: Bool) {
        #expect(ImageVersion(left).matches(ImageVersion(right)) == expected)
        #expect(ImageVersion(right).matches(ImageVersion(left)) == expected, "symmetric")
    }
}
