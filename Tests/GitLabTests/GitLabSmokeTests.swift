import Testing
@testable import GitLab

@Test func GitLabModuleLinks() { #expect(Bool(true)) }
