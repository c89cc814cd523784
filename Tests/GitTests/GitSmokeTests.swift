import Testing
@testable import Git

@Test func GitModuleLinks() { #expect(Bool(true)) }
