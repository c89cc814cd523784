import Testing
@testable import Sandbox

@Test func SandboxModuleLinks() { #expect(Bool(true)) }
