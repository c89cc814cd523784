import Foundation
import Testing
import TestSupport
@testable import HTTP

@Suite struct TLSTests {
    @Test(.enabled(if: TLSServer.available, "needs the openssl command"))
    func untrustedCertificatesAreRejectedUnlessTrustedViaCABundle() async throws {
        try await TLSServer.with { server in
            let strict = makeClient(retry: .none) { $0.totalTimeout = .seconds(5) }
            let rejected = try await httpError { try await strict.get(server.url) }
            #expect(rejected.kind == .tls)
            #expect(rejected.description.contains("TLS failed"))

            let trusting = makeClient(retry: .none) { $0.caBundlePath = server.certificatePath; $0.totalTimeout = .seconds(5) }
            #expect(try await trusting.get(server.url).status == 200)

            let insecure = makeClient(retry: .none) { $0.verifyTLS = false; $0.totalTimeout = .seconds(5) }
            #expect(try await insecure.get(server.url).status == 200)
        }
    }
}
