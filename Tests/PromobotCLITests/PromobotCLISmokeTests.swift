import Testing
@testable import PromobotCLI

@Test func PromobotCLIModuleLinks() { #expect(Bool(true)) }
