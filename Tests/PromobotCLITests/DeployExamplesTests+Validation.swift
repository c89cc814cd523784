import ArgumentParser
import Foundation
import Testing
import TestSupport
import Yams
@testable import PromobotCLI
@testable import Sandbox

/// Every file in `deploy/` is checked by some test: the Kubernetes manifests against the Kubernetes schemas
/// (offline, with kubernetes-validate), the GitLab CI files for stages and jobs they name but do not define,
/// the cron line through promobot's own parser, and the image every example names is the one the release
/// pipeline pushes.
extension DeployExamplesTests {
    static let gitLabFiles = ["deploy/gitlab/.gitlab-ci.yml", "deploy/gitlab/release.gitlab-ci.yml"]
    static let cronFile = "deploy/cron/promobot.cron"
    /// Checked in ServerTests (`promobot_*` names it uses are ones promobot exports).
    static let alertsFile = "deploy/prometheus/alerts.yaml"
    /// Checked by `theJenkinsfileWritesDevWithSetImageResolve` (its promobot line and the config it writes).
    static let jenkinsFile = "deploy/jenkins/Jenkinsfile"

    @Test func everyFileInDeployIsChecked() throws {
        let deploy = Self.root.appendingPathComponent("deploy")
        let files = try FileManager.default.subpathsOfDirectory(atPath: deploy.path).filter { path in
            var folder: ObjCBool = false
            return FileManager.default.fileExists(atPath: deploy.appendingPathComponent(path).path, isDirectory: &folder) && !folder.boolValue
        }
        let checked = Set(Self.kubernetesFiles + Self.gitLabFiles + [Self.cronFile, Self.alertsFile, Self.jenkinsFile])
        for file in files.map({ "deploy/" + $0 }) {
            #expect(checked.contains(file), "\(file) is checked by no test: add it to DeployExamplesTests")
        }
        #expect(checked.allSatisfy { file in files.contains { "deploy/" + $0 == file } }, "a checked file is gone")
    }

    // MARK: - Kubernetes schemas

    /// kubernetes-validate, which ships the Kubernetes schemas: the venv scripts/bootstrap makes, else PATH.
    static let kubernetesValidate: String? = {
        let venv = root.appendingPathComponent(".build/python/bin/kubernetes-validate").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/kubernetes-validate" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    /// Set by scripts/test, so CI fails instead of skipping when the validator is missing.
    static let validatorRequired = ProcessInfo.processInfo.environment["PROMOBOT_REQUIRE_FIDELITY"] == "1"

    static func validateKubernetes(_ path: String) throws -> ProcessResult {
        let validator = try #require(kubernetesValidate, "kubernetes-validate is not installed: ./scripts/test installs it into .build/python")
        return try ProcessRunner.run(validator, ["--strict", path], currentDirectory: root)
    }

    @Test(.enabled(if: kubernetesValidate != nil || validatorRequired, "kubernetes-validate is not installed (./scripts/test installs it)"),
          arguments: kubernetesFiles)
    func kubernetesManifestsMatchTheSchemas(_ path: String) throws {
        let result = try Self.validateKubernetes(path)
        #expect(result.status == 0, "\(path):\n\(result.output)\n\(result.errorText)")
        let kinds = try Self.documents(path).count
        #expect(result.output.components(separatedBy: " passed for resource ").count - 1 == kinds, "every document is checked: \(result.output)")
    }

    @Test(.enabled(if: kubernetesValidate != nil || validatorRequired, "kubernetes-validate is not installed (./scripts/test installs it)"))
    func theSchemaCheckRejectsABrokenManifest() throws {
        let folder = try TestPaths.temporaryFolder("k8s-schema")
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/kubernetes/cronjob.yaml"), encoding: .utf8)
        // A typo a person makes: an unknown field, and a string where a number belongs.
        let broken = text.replacingOccurrences(of: "concurrencyPolicy: Forbid", with: "concurrencyPolice: Forbid")
            .replacingOccurrences(of: "backoffLimit: 0", with: "backoffLimit: none")
        #expect(broken != text)
        let file = folder.appendingPathComponent("cronjob.yaml")
        try broken.write(to: file, atomically: true, encoding: .utf8)
        let result = try Self.validateKubernetes(file.path)
        #expect(result.status != 0, "kubernetes-validate accepted a broken CronJob:\n\(result.output)")
    }

    // MARK: - GitLab CI

    /// Top-level keys of a GitLab CI file that are not jobs.
    static let gitLabGlobalKeywords: Set = ["default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                                            "before_script", "after_script"]

    /// What a GitLab CI file names but does not define: stages of jobs, `needs`, `extends`, `dependencies`,
    /// jobs without a script; and jobs that would run promobot's image with its ENTRYPOINT (promobot, not a shell).
    static func gitLabProblems(_ pipeline: [String: Any]) -> [String] {
        var problems: [String] = []
        let stages = (pipeline["stages"] as? [String]) ?? ["build", "test", "deploy"]
        let known = Set(stages + [".pre", ".post"])
        let jobs = pipeline.filter { !gitLabGlobalKeywords.contains($0.key) }
        func names(_ value: Any?) -> [String] {
            switch value {
            case let name as String: [name]
            case let list as [Any]: list.compactMap { ($0 as? String) ?? (($0 as? [String: Any])?["job"] as? String) }
            default: []
            }
        }
        for (name, value) in jobs.sorted(by: { $0.key < $1.key }) {
            guard let job = value as? [String: Any] else { problems.append("\(name): not a job"); continue }
            if name.hasPrefix(".") { continue }   // a template, used through `extends`
            let stage = (job["stage"] as? String) ?? "test"
            if !known.contains(stage) { problems.append("\(name): stage '\(stage)' is not in stages \(stages)") }
            for key in ["needs", "extends", "dependencies"] {
                for other in names(job[key]) where jobs[other] == nil { problems.append("\(name): \(key) names '\(other)', which is not defined") }
            }
            let script = names(job["script"])
            if script.isEmpty && job["trigger"] == nil { problems.append("\(name): no script") }
            if script.contains(where: { $0.hasPrefix("promobot ") }) {
                let image = job["image"] ?? (pipeline["default"] as? [String: Any])?["image"]
                if ((image as? [String: Any])?["entrypoint"] as? [String]) != [""] {
                    problems.append("\(name): runs promobot's image without `entrypoint: [\"\"]` (its ENTRYPOINT is promobot, not a shell)")
                }
            }
            for line in script {
                for match in line.matches(of: /\.\/(scripts\/[a-z-]+)/) where !FileManager.default.isExecutableFile(atPath: root.appendingPathComponent(String(match.1)).path) {
                    problems.append("\(name): runs ./\(match.1), which is not an executable script in this repository")
                }
            }
        }
        return problems
    }

    @Test(arguments: gitLabFiles) func gitLabCIFilesReferenceOnlyWhatTheyDefine(_ path: String) throws {
        let pipeline = try #require(try Self.documents(path).first, "\(path) holds no mapping")
        #expect(Self.gitLabProblems(pipeline) == [], "\(path)")
        #expect(pipeline.keys.contains { !Self.gitLabGlobalKeywords.contains($0) }, "\(path) defines no job")
    }

    @Test func theGitLabCICheckFindsWhatIsMissing() throws {
        let broken: [String: Any] = [
            "stages": ["build"],
            "default": ["image": "registry.example.com/x/promobot:v1"],
            "build": ["stage": "build", "script": ["./scripts/build-release"]],
            "typo": ["stage": "buidl", "needs": ["biuld"], "extends": ".template", "script": ["promobot run"]],
            "empty": ["stage": "build", "dependencies": ["build"]],
        ]
        let problems = Self.gitLabProblems(broken)
        #expect(problems.contains("typo: stage 'buidl' is not in stages [\"build\"]"), "\(problems)")
        #expect(problems.contains("typo: needs names 'biuld', which is not defined"), "\(problems)")
        #expect(problems.contains("typo: extends names '.template', which is not defined"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("typo: runs promobot's image without") }, "\(problems)")
        #expect(problems.contains("empty: no script"), "\(problems)")
        #expect(problems.count == 5, "\(problems)")
    }

    /// The reference the examples name, and what the release pipeline pushes.
    static let placeholderImage = "registry.gitlab.example.com/platform/promobot:vX.Y.Z"

    @Test func theReleasePipelinePushesTheImageAndAttachesTheTarball() throws {
        let pipeline = try #require(try Self.documents("deploy/gitlab/release.gitlab-ci.yml").first)
        let rules = try #require(Self.value(pipeline, "workflow.rules") as? [[String: Any]])
        #expect(rules.contains { ($0["if"] as? String)?.contains("$CI_COMMIT_TAG") == true }, "runs on tags only")
        let scripts = pipeline.values.flatMap { (($0 as? [String: Any])?["script"] as? [String]) ?? [] }.joined(separator: "\n")
        #expect(scripts.contains("buildah push \"$CI_REGISTRY_IMAGE:$CI_COMMIT_TAG\""), "pushes the image the examples name")
        #expect(scripts.contains("--build-arg VERSION="), "the image's binary gets the tag's version")
        for step in ["./scripts/build-release", "./scripts/package", "./scripts/check-package"] {
            #expect(scripts.contains(step), "the binary job runs \(step)")
        }
        #expect(Self.value(pipeline, "release.release.tag_name") as? String == "$CI_COMMIT_TAG")
        let links = try #require(Self.value(pipeline, "release.release.assets.links") as? [[String: Any]])
        // The name scripts/package gives the tarball: promobot-<version>-linux-<arch>.tar.gz.
        #expect(links.contains { ($0["url"] as? String)?.hasSuffix("/promobot-$VERSION-linux-x86_64.tar.gz") == true }, "\(links)")
        let artifacts = try #require(Self.value(pipeline, "binary.artifacts.paths") as? [String])
        #expect(artifacts.contains(".build/dist/promobot-*.tar.gz"))
    }

    @Test func theExamplesNameTheImageTheReleasePipelinePushes() throws {
        for path in Self.kubernetesFiles {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            let images = Self.podSpecs(try Self.documents(path)).flatMap { ($0["containers"] as? [[String: Any]]) ?? [] }
                .compactMap { $0["image"] as? String }.filter { $0.contains("promobot") }
            #expect(!images.isEmpty && images.allSatisfy { $0 == Self.placeholderImage }, "\(path): \(images)")
            #expect(text.contains("# REPLACE"), "\(path): the placeholder image needs its comment")
        }
        let ci = try #require(try Self.documents("deploy/gitlab/.gitlab-ci.yml").first)
        #expect(Self.value(ci, "variables.PROMOBOT_IMAGE") as? String == "$CI_REGISTRY/platform/promobot:vX.Y.Z")
        for path in Self.kubernetesFiles + Self.gitLabFiles + [Self.cronFile, "README.md", "docs/packaging.md"] {
            let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
            #expect(!text.contains("registry.example.com/platform/promobot"), "\(path) names the old image nothing builds")
        }
    }

    // MARK: - cron

    /// The promobot command lines of a crontab (`/etc/cron.d` format: five time fields, a user, a command):
    /// the words after the promobot executable (`promobot` or `…/bin/promobot`), up to the first shell operator.
    static func cronCommands(_ text: String) -> [(schedule: [String], user: String, arguments: [String])] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let first = words.first, !first.hasPrefix("#"), !first.contains("="), words.count > 6 else { return nil }
            let command = words.dropFirst(6)
            // The executable, not a folder named like it (`cd /srv/promobot`).
            guard let start = command.firstIndex(where: { $0 == "promobot" || $0.hasSuffix("/bin/promobot") }) else { return nil }
            let operators: Set = [">", ">>", "2>&1", "&&", "||", "|", ";", "2>", "<"]
            let arguments = command[(start + 1)...].prefix { !operators.contains($0) }
            return (Array(words.prefix(5)), words[5], Array(arguments))
        }
    }

    @Test func theCronLineRunsACommandPromobotAccepts() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent(Self.cronFile), encoding: .utf8)
        let commands = Self.cronCommands(text)
        #expect(commands.count == 1, "\(commands)")
        for command in commands {
            for field in command.schedule {
                #expect(field.wholeMatch(of: /(\*|[0-9]+(-[0-9]+)?)(\/[0-9]+)?(,[0-9]+(-[0-9]+)?)*/) != nil, "not a cron time field: \(field)")
            }
            #expect(command.user == "promobot", "runs as the promobot user, not root")
            #expect(throws: Never.self, "promobot \(command.arguments.joined(separator: " "))") {
                _ = try Promobot.parseAsRoot(command.arguments)
            }
            #expect(command.arguments.first == "run")
        }
        // The parse can fail: a line with a flag promobot does not have is caught.
        let typo = Self.cronCommands("*/5 * * * * promobot /usr/local/bin/promobot run --confg x.yaml >> log 2>&1")
        #expect(typo.first?.arguments == ["run", "--confg", "x.yaml"])
        #expect(throws: (any Error).self) { _ = try Promobot.parseAsRoot(typo.first?.arguments ?? []) }
    }
}
