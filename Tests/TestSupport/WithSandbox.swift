import Foundation
import Sandbox

/// The one way tests run a `Sandbox`: makes a fresh scratch folder (`TestPaths.temporaryFolder(label)`),
/// starts a sandbox on 127.0.0.1 with a port the OS picks (read back through `sandbox.baseURL`), runs
/// `body`, then shuts the sandbox down and removes the folder, whether `body` returns or throws.
///
/// The sandbox keeps its data in `folder/sandbox` (its bare repositories under `folder/sandbox/repos`);
/// the rest of `folder` is the test's own scratch space (clones, caches, config files), removed with it.
/// Per-suite seeding (users, projects, policies) belongs in `body`, so a seeding failure is cleaned up too.
///
/// - Parameters:
///   - label: names the scratch folder (`promobot-<label>-<UUID>`), so a leftover says which suite made it.
///   - body: gets the started sandbox and the scratch folder; the sandbox is shut down once it returns,
///     so neither may be used after that. Calling `shutdown()` inside `body` is allowed (it is idempotent).
/// - Returns: what `body` returns.
/// - Throws: what creating the folder, starting the sandbox, or `body` throws.
public func withSandbox<T>(_ label: String = "sandbox", _ body: (_ sandbox: Sandbox, _ folder: URL) async throws -> T) async throws -> T {
    let folder = try TestPaths.temporaryFolder(label)
    defer { try? FileManager.default.removeItem(at: folder) }
    let sandbox = try Sandbox(dataDirectory: folder.appendingPathComponent("sandbox"))
    do {
        try await sandbox.start()
        let result = try await body(sandbox, folder)
        await sandbox.shutdown()
        return result
    } catch {
        await sandbox.shutdown()
        throw error
    }
}
