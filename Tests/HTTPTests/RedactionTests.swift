import Foundation
import Testing
@testable import HTTP

@Suite struct RedactionTests {
    @Test(arguments: [
        ("https://gitlab.example.com/api/v4/projects?page=2", "https://gitlab.example.com/api/v4/projects?page=2"),
        ("https://bot:s3cretpw@gitlab.example.com/x", "https://REDACTED@gitlab.example.com/x"),
        ("https://oauth2@gitlab.example.com/x", "https://REDACTED@gitlab.example.com/x"),
        ("https://h/api?private_token=glpat-abc123&page=2", "https://h/api?private_token=REDACTED&page=2"),
        ("https://h/api?ACCESS_TOKEN=xyz987", "https://h/api?ACCESS_TOKEN=REDACTED"),
        ("https://h/api?job_token=j0b&x=1#frag", "https://h/api?job_token=REDACTED&x=1#frag"),
        ("not a url ://u:p@h?private_token=zzz9", "not a url ://REDACTED@h?private_token=REDACTED"),
    ])
    func urls(input: String, expected: String) {
        #expect(Redaction.redact(url: input) == expected)
    }

    @Test func headersKeepNamesAndDropCredentials() {
        let headers: HTTPHeaders = ["PRIVATE-TOKEN": "glpat-1", "authorization": "Bearer t", "Accept": "application/json"]
        let redacted = Redaction.redact(headers: headers)
        #expect(redacted["private-token"] == "REDACTED")
        #expect(redacted["Authorization"] == "REDACTED")
        #expect(redacted["Accept"] == "application/json")
        #expect(redacted.fields.count == 3)
    }

    @Test func secretsOfARequestAreFoundAndScrubbed() throws {
        let url = try #require(URL(string: "https://bot:pa55word@h/api?private_token=tok%2Fen1&page=2"))
        let request = HTTPRequest(url: url, headers: ["Authorization": "Bearer bearer-secret", "JOB-TOKEN": "job-secret"])
        let secrets = Redaction.secrets(in: request)
        let message = "user bot pa55word sent tok/en1, tok%2Fen1, bearer-secret and job-secret to h"
        let scrubbed = Redaction.redact(text: message, secrets: secrets)
        for secret in ["pa55word", "tok/en1", "tok%2Fen1", "bearer-secret", "job-secret"] {
            #expect(!scrubbed.contains(secret))
        }
        #expect(scrubbed.hasSuffix("to h"))
    }

    /// A library's message (libgit2's, curl's) may echo a URL with userinfo or a secret percent-encoded.
    @Test func messagesLoseEncodedSecretsAndUserinfo() {
        let text = Redaction.redact(text: "failed http://u:p%40ss@host/x and token abc123", secrets: ["abc123", "p@ss"])
        #expect(text == "failed http://REDACTED@host/x and token REDACTED")
    }

    @Test(arguments: [
        ("https://oauth2:tok@gitlab.example.com/g/r.git", "https://gitlab.example.com/g/r.git", "oauth2", "tok"),
        ("https://bot:p%40ss@h/r.git", "https://h/r.git", "bot", "p@ss"),
        ("ssh://git@host:22/g/r.git", "ssh://git@host:22/g/r.git", "git", nil),
        ("git@host:g/r.git", "git@host:g/r.git", nil, nil),
        ("/tmp/origin.git", "/tmp/origin.git", nil, nil),
        ("https://host/path@with-at", "https://host/path@with-at", nil, nil),
    ] as [(String, String, String?, String?)])
    func userinfoIsSplitOff(input: String, url: String, user: String?, password: String?) {
        let split = Redaction.stripUserinfo(input)
        #expect(split.url == url)
        #expect(split.user == user)
        #expect(split.password == password)
    }
}
