import Testing
@testable import Manifests

@Test func ManifestsModuleLinks() { #expect(Bool(true)) }
