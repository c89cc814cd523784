import Foundation
import Testing
@testable import GitLab
import HTTP

@Suite struct ProjectRefTests {
    @Test(arguments: [
        ("42", ProjectRef.id(42)),
        (" 7 ", .id(7)),
        ("group/deploy", .path("group/deploy")),
        ("/group/sub/deploy-repo/", .path("group/sub/deploy-repo")),
        ("123abc", .path("123abc")),
        ("group/42", .path("group/42")),
    ])
    func parses(input: String, expected: ProjectRef) {
        #expect(ProjectRef(input) == expected)
    }

    @Test(arguments: [
        (ProjectRef.id(42), "42"),
        (.path("group/deploy"), "group%2Fdeploy"),
        (.path("my-group/sub/deploy.repo"), "my-group%2Fsub%2Fdeploy.repo"),
        (.path("a b/c+d"), "a%20b%2Fc%2Bd"),
    ])
    func encodes(ref: ProjectRef, expected: String) {
        #expect(ref.encoded == expected)
    }

    @Test func encodedSlashSurvivesURLBuilding() throws {
        let client = GitLabClient(baseURL: URL(string: "http://127.0.0.1:1/")!, token: GitLabToken("t"), transport: NeverTransport())
        let url = try client.url("/projects/\(ProjectRef.path("group/sub/repo").encoded)/repository/branches/\(URLEncoding.pathSegment("feature/bump"))",
                                 query: [("labels", "a,b"), ("created_after", "2026-01-01T00:00:00+02:00")])
        #expect(url.absoluteString == "http://127.0.0.1:1/api/v4/projects/group%2Fsub%2Frepo/repository/branches/feature%2Fbump?labels=a%2Cb&created_after=2026-01-01T00%3A00%3A00%2B02%3A00")
        #expect(client.displayPath(url) == "/projects/group%2Fsub%2Frepo/repository/branches/feature%2Fbump")
    }

    @Test(arguments: [
        ("https://gitlab.example.com", "https://gitlab.example.com/api/v4"),
        ("https://gitlab.example.com/", "https://gitlab.example.com/api/v4"),
        ("https://host/gitlab", "https://host/gitlab/api/v4"),
        ("https://host/api/v4/", "https://host/api/v4"),
    ])
    func apiRoot(base: String, expected: String) {
        let client = GitLabClient(baseURL: URL(string: base)!, token: GitLabToken("t"), transport: NeverTransport())
        #expect(client.apiRoot == expected)
    }
}

@Suite struct LinkHeaderTests {
    @Test func parsesGitLabLinks() {
        let header = #"<http://h/api/v4/projects/1/merge_requests?page=2&per_page=100&state=opened>; rel="next", <http://h/api/v4/projects/1/merge_requests?page=1&per_page=100>; rel="first", <http://h/x?page=3>; rel="last""#
        let links = LinkHeader.parse(header)
        #expect(links["next"] == "http://h/api/v4/projects/1/merge_requests?page=2&per_page=100&state=opened")
        #expect(links["first"] == "http://h/api/v4/projects/1/merge_requests?page=1&per_page=100")
        #expect(links["last"] == "http://h/x?page=3")
    }

    @Test func commaInsideURLAndEncodedSlashSurvive() {
        let links = LinkHeader.parse(#"<http://h/api/v4/projects/g%2Fr/merge_requests?labels=a,b&page=2>; rel="next""#)
        #expect(links["next"] == "http://h/api/v4/projects/g%2Fr/merge_requests?labels=a,b&page=2")
    }

    @Test(arguments: ["", "garbage", #"<http://h/x>; rel="prev""#])
    func noNext(header: String) {
        #expect(LinkHeader.parse(header)["next"] == nil)
    }
}

/// A transport for tests that must not send anything.
struct NeverTransport: HTTPTransport {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        Issue.record("unexpected request \(request.method.rawValue) \(request.url)")
        return HTTPResponse(status: 599)
    }
}
