import Testing
@testable import Policies

@Test func PoliciesModuleLinks() { #expect(Bool(true)) }
