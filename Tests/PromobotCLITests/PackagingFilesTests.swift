import Foundation
import Testing
import TestSupport

/// No machine of ours runs a container daemon, so the image is never built here: these checks keep the
/// Dockerfile saying what docs/packaging.md promises, and its build stage the scripts CI runs for real.
@Suite struct PackagingFilesTests {
    static let root = URL(fileURLWithPath: TestPaths.repositoryRoot())

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The instructions of each stage, continuation lines joined, comments dropped.
    static func stages(_ dockerfile: String) -> [[String]] {
        var stages: [[String]] = []
        var current = ""
        for line in dockerfile.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#") && current.isEmpty { continue }
            current += (current.isEmpty ? "" : " ") + (trimmed.hasSuffix("\\") ? String(trimmed.dropLast()) : trimmed)
            if trimmed.hasSuffix("\\") { continue }
            let instruction = current.trimmingCharacters(in: .whitespaces)
            current = ""
            guard !instruction.isEmpty else { continue }
            if instruction.hasPrefix("FROM ") || stages.isEmpty { stages.append([]) }
            stages[stages.count - 1].append(instruction)
        }
        return stages
    }

    @Test func theDockerfileBuildsWithTheScriptsAndRunsAsPromised() throws {
        let stages = Self.stages(try Self.text("Dockerfile"))
        #expect(stages.count == 3, "ARGs, the build stage, the runtime stage: \(stages.count)")
        let build = stages.dropFirst().first ?? [], runtime = stages.last ?? []
        #expect(build.first?.hasPrefix("FROM ${SWIFT_IMAGE} AS build") == true)
        #expect(build.contains { $0.contains("./scripts/build-release /out") && $0.contains("./scripts/package /out") && $0.contains("PROMOBOT_VERSION=\"${VERSION}\"") },
                "the build stage is the scripts CI runs: \(build)")
        let globals = stages.first ?? []
        #expect(globals.contains { $0.hasPrefix("ARG SWIFT_IMAGE=swift:6.") && $0.hasSuffix("-bookworm") })
        #expect(globals.contains("ARG RUNTIME_IMAGE=debian:bookworm-slim"))

        #expect(runtime.first == "FROM ${RUNTIME_IMAGE}")
        let install = try #require(runtime.first { $0.contains("apt-get install") })
        let packages = Set(install.components(separatedBy: "--no-install-recommends ").last?.split(separator: " ").prefix { $0 != "&&" }.map(String.init) ?? [])
        #expect(packages == ["libgit2-1.5", "libcurl4", "ca-certificates"], "exactly the runtime packages: \(packages)")
        #expect(runtime.contains("COPY --from=build /out/promobot /usr/local/bin/promobot"))
        #expect(runtime.contains { $0.hasPrefix("COPY --from=build /out/licenses ") }, "the notices ship in the image")
        #expect(runtime.contains("USER 65532:65532"), "non-root, the uid the Kubernetes examples run as")
        #expect(runtime.contains("VOLUME [\"/cache\"]") && runtime.contains("ENV XDG_CACHE_HOME=/cache"))
        #expect(runtime.contains("ENTRYPOINT [\"promobot\"]"))
        let labels = runtime.filter { $0.hasPrefix("LABEL ") }.joined(separator: " ")
        for label in ["org.opencontainers.image.version=\"${VERSION}\"", "org.opencontainers.image.source=\"${SOURCE_URL}\"",
                      "org.opencontainers.image.revision=\"${REVISION}\""] {
            #expect(labels.contains(label), "\(label) missing: \(labels)")
        }
        for argument in ["VERSION", "SOURCE_URL", "REVISION"] {
            #expect(runtime.contains { $0.hasPrefix("ARG \(argument)") }, "the runtime stage must declare ARG \(argument) to use it in a label")
        }
    }

    @Test func theBuildContextLeavesOutBuildProductsAndGit() throws {
        let ignored = Set(try Self.text(".dockerignore").split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") })
        for entry in [".build/", ".git", "Package.resolved"] { #expect(ignored.contains(entry), "\(entry) is sent to the daemon") }
        for entry in ["Sources", "scripts", "Package.swift", "Plugins"] {
            #expect(!ignored.contains(entry) && !ignored.contains(entry + "/"), "the build needs \(entry)")
        }
    }

    @Test func ciRunsTheTestCommandThenThePackaging() throws {
        let lines = try Self.text(".ci/run").split(separator: "\n").map(String.init).filter { $0.hasPrefix("./") }
        #expect(lines == ["./scripts/test", "./scripts/build-release", "./scripts/package", "./scripts/check-package"], "\(lines)")
        #expect(try Self.text("README.md").contains("./scripts/test     # every test"), "the README's test command")
    }
}
