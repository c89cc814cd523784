import Foundation
import Manifests
import Testing
import TestSupport
@testable import Sandbox

/// The sandbox's OCI distribution endpoint, spoken to with raw HTTP (URLSession) as a registry client would.
@Suite struct RegistryEndpointTests {
    /// GET (the registry client's HEAD requests are covered in RegistryTests, over libcurl).
    func send(_ url: URL, headers: [String: String] = [:]) async throws -> (Int, [String: String], Data) {
        let reply = try await Curl.request("GET", url.absoluteString, headers: headers)
        return (reply.status, reply.headers, reply.body)
    }

    @Test func manifestsByTagAndDigestAndErrors() async throws {
        try await withSandbox("registry-endpoint") { sandbox, _ in
            let digest = sandbox.pushImage("oms/app", tag: "1.5.0")
            let base = sandbox.baseURL
            let (status, headers, body) = try await send(base.appendingPathComponent("v2/oms/app/manifests/1.5.0"))
            #expect(status == 200)
            #expect(headers["docker-content-digest"] == digest)
            #expect(headers["content-type"] == "application/vnd.oci.image.manifest.v1+json")
            #expect(SHA256.digest(body) == digest, "the digest is that of the bytes served")
            let (byDigest, _, _) = try await send(base.appendingPathComponent("v2/oms/app/manifests/\(digest)"))
            #expect(byDigest == 200)
            let (missing, _, error) = try await send(base.appendingPathComponent("v2/oms/app/manifests/9.9.9"))
            #expect(missing == 404)
            #expect(String(decoding: error, as: UTF8.self).contains(#""code":"MANIFEST_UNKNOWN""#))
            let (unknownRepo, _, repoError) = try await send(base.appendingPathComponent("v2/oms/nope/manifests/1.0"))
            #expect(unknownRepo == 404 && String(decoding: repoError, as: UTF8.self).contains("NAME_UNKNOWN"))
            // Re-pushing moves the tag.
            let moved = sandbox.pushImage("oms/app", tag: "1.5.0")
            #expect(moved != digest && sandbox.imageDigest("oms/app", tag: "1.5.0") == moved)
        }
    }

    @Test func tagsListPaginatesWithLink() async throws {
        try await withSandbox("registry-tags") { sandbox, _ in
            for tag in ["1.0", "1.1", "2.0"] { sandbox.pushImage("oms/app", tag: tag) }
            let url = URL(string: sandbox.baseURL.absoluteString + "/v2/oms/app/tags/list?n=2")!
            let (status, headers, body) = try await send(url)
            #expect(status == 200)
            #expect(String(decoding: body, as: UTF8.self) == #"{"name":"oms/app","tags":["1.0","1.1"]}"#)
            #expect(headers["link"] == #"</v2/oms/app/tags/list?n=2&last=1.1>; rel="next""#)
            let (_, last, rest) = try await send(URL(string: sandbox.baseURL.absoluteString + "/v2/oms/app/tags/list?n=2&last=1.1")!)
            #expect(String(decoding: rest, as: UTF8.self).contains(#"["2.0"]"#) && last["link"] == nil)
        }
    }

    @Test func tokenAuthChallengesAndGrants() async throws {
        try await withSandbox("registry-auth") { sandbox, _ in
            sandbox.addUser("ci", token: "ci-token-123456", role: .developer)
            sandbox.setRegistryTokenAuth(true, lifetime: 300)
            sandbox.pushImage("oms/app", tag: "1.5.0")
            let manifest = sandbox.baseURL.appendingPathComponent("v2/oms/app/manifests/1.5.0")
            let (status, headers, _) = try await send(manifest)
            #expect(status == 401)
            #expect(headers["www-authenticate"] == #"Bearer realm="\#(sandbox.baseURL.absoluteString)/jwt/auth",service="container_registry",scope="repository:oms/app:pull""#)
            let realm = URL(string: sandbox.baseURL.absoluteString + "/jwt/auth?service=container_registry&scope=repository:oms/app:pull")!
            let basic = "Basic " + Data("ci:ci-token-123456".utf8).base64EncodedString()
            let (granted, _, answer) = try await send(realm, headers: ["Authorization": basic])
            #expect(granted == 200)
            let token = try #require((try JSONSerialization.jsonObject(with: answer) as? [String: Any])?["token"] as? String)
            #expect((try JSONSerialization.jsonObject(with: answer) as? [String: Any])?["expires_in"] as? Int == 300)
            let (ok, _, _) = try await send(manifest, headers: ["Authorization": "Bearer \(token)"])
            #expect(ok == 200)
            let (wrong, _, _) = try await send(realm, headers: ["Authorization": "Basic " + Data("ci:nope".utf8).base64EncodedString()])
            #expect(wrong == 401)
            let (_, _, anonymous) = try await send(realm)
            let anonymousToken = try #require((try JSONSerialization.jsonObject(with: anonymous) as? [String: Any])?["token"] as? String)
            let (denied, _, deniedBody) = try await send(manifest, headers: ["Authorization": "Bearer \(anonymousToken)"])
            #expect(denied == 403 && String(decoding: deniedBody, as: UTF8.self).contains("DENIED"))
        }
    }

    @Test func faultsApplyToRegistryPaths() async throws {
        try await withSandbox("registry-fault") { sandbox, _ in
            sandbox.pushImage("oms/app", tag: "1.5.0")
            sandbox.injectFault(SandboxFault(pathPrefix: "/v2/oms/app", kind: .status(503)))
            let manifest = sandbox.baseURL.appendingPathComponent("v2/oms/app/manifests/1.5.0")
            let first = try await send(manifest).0
            let second = try await send(manifest).0
            #expect(first == 503 && second == 200)
        }
    }

    @Test func seedPushesImagesAndSwitchesTokenAuthOn() async throws {
        try await withSandbox("registry-seed") { sandbox, _ in
            try await sandbox.apply(SandboxSeed(registryImages: [.init(repository: "oms/app", tags: ["1.0.0", "1.1.0"])], registryTokenAuth: true), tokens: [:])
            #expect(sandbox.imageDigest("oms/app", tag: "1.1.0") != nil)
            let status = try await send(sandbox.baseURL.appendingPathComponent("v2/")).0
            #expect(status == 401)
        }
    }
}
