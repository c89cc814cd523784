import ArgumentParser
import Foundation
import Policies
import Promotion
import Testing
import Yams
@testable import PromobotCLI

/// The examples in `deploy/` are what people copy: every YAML parses, every promobot command line in them
/// is one promobot accepts, every embedded `promobot.yaml` validates, and the Kubernetes objects have the
/// shape their comments promise (a kubectl-free schema check).
@Suite struct DeployExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every YAML document of a deploy file, as plain values.
    static func documents(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    static func value(_ object: Any?, _ path: String) -> Any? {
        path.split(separator: ".").reduce(object) { current, key in
            if let index = Int(key), let list = current as? [Any] { return index < list.count ? list[index] : nil }
            return (current as? [String: Any])?[String(key)]
        }
    }

    /// The pod specs of Deployments, CronJobs and Jobs in a file.
    static func podSpecs(_ documents: [[String: Any]]) -> [[String: Any]] {
        documents.compactMap { document in
            switch document["kind"] as? String {
            case "Deployment", "Job": value(document, "spec.template.spec") as? [String: Any]
            case "CronJob": value(document, "spec.jobTemplate.spec.template.spec") as? [String: Any]
            default: nil
            }
        }
    }

    static let kubernetesFiles = ["deploy/kubernetes/cronjob.yaml", "deploy/kubernetes/cronjob-sharded.yaml", "deploy/kubernetes/deployment.yaml"]

    @Test(arguments: kubernetesFiles) func promobotContainersRunCommandsPromobotAccepts(_ path: String) throws {
        let documents = try Self.documents(path)
        var commands = 0
        for spec in Self.podSpecs(documents) {
            for container in (spec["containers"] as? [[String: Any]]) ?? [] where (container["image"] as? String)?.contains("promobot") == true {
                let args = try #require(container["args"] as? [String], "\(path): a promobot container without args")
                #expect(throws: Never.self, "\(path): promobot \(args.joined(separator: " "))") {
                    _ = try Promobot.parseAsRoot(args)
                }
                commands += 1
                #expect(spec["automountServiceAccountToken"] as? Bool == false, "\(path): promobot needs no cluster access")
                #expect(Self.value(spec, "securityContext.runAsNonRoot") as? Bool == true, "\(path)")
            }
        }
        #expect(commands > 0, "\(path) runs no promobot container")
        // The config every example ships validates, with secrets only by reference.
        for document in documents where document["kind"] as? String == "ConfigMap" {
            let config = try #require((document["data"] as? [String: Any])?["promobot.yaml"] as? String)
            let parsed = ConfigParser.parse(yaml: config, path: "\(path):promobot.yaml")
            #expect(parsed.config != nil, "\(parsed.diagnostics.map(\.formatted).joined(separator: "\n"))")
        }
    }

    @Test func theShardedCronJobIsAnIndexedJobWithOneShardPerPodAndASharedBudget() throws {
        let documents = try Self.documents("deploy/kubernetes/cronjob-sharded.yaml")
        let cronJob = try #require(documents.first { $0["kind"] as? String == "CronJob" })
        let job = try #require(Self.value(cronJob, "spec.jobTemplate.spec") as? [String: Any])
        #expect(job["completionMode"] as? String == "Indexed")
        let completions = try #require(job["completions"] as? Int)
        #expect(job["parallelism"] as? Int == completions)
        let args = try #require(Self.value(job, "template.spec.containers.0.args") as? [String])
        let shard = try #require(args.firstIndex(of: "--shard").map { args[$0 + 1] })
        #expect(shard == String(completions), "--shard \(shard) must take the index from JOB_COMPLETION_INDEX, with N = completions")
        let lastPod = try Shard.parse(shard, environment: ["JOB_COMPLETION_INDEX": String(completions - 1)]).get()
        #expect(lastPod.index == completions - 1 && lastPod.count == completions)
        let config = try #require(documents.first { $0["kind"] as? String == "ConfigMap" }.flatMap { ($0["data"] as? [String: Any])?["promobot.yaml"] as? String })
        let parsed = try #require(ConfigParser.parse(yaml: config, path: "sharded").config)
        #expect(parsed.requestsPerMinute * completions <= 3000, "each shard's budget is its part of the account's 3000/min")
    }

    @Test func theDeploymentProbesTheServersEndpoints() throws {
        let documents = try Self.documents("deploy/kubernetes/deployment.yaml")
        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let container = try #require(Self.value(deployment, "spec.template.spec.containers.0") as? [String: Any])
        #expect((container["args"] as? [String])?.first == "serve")
        #expect(Self.value(container, "livenessProbe.httpGet.path") as? String == "/healthz")
        #expect(Self.value(container, "readinessProbe.httpGet.path") as? String == "/readyz")
        #expect(Self.value(container, "securityContext.readOnlyRootFilesystem") as? Bool == true)
        #expect(Self.value(deployment, "spec.replicas") as? Int == 1)
        let annotations = try #require(Self.value(deployment, "spec.template.metadata.annotations") as? [String: Any])
        #expect(annotations["prometheus.io/path"] as? String == "/metrics")
        #expect(documents.contains { $0["kind"] as? String == "Service" })
    }

    @Test func theGitLabCIJobsRunCommandsPromobotAccepts() throws {
        let documents = try Self.documents("deploy/gitlab/.gitlab-ci.yml")
        let pipeline = try #require(documents.first)
        var commands = 0
        for (name, job) in pipeline {
            for line in (Self.value(job, "script") as? [String]) ?? [] where line.hasPrefix("promobot ") {
                // Variables as a person would fill them in.
                let filled = line.replacingOccurrences(of: "${PROMOBOT_TO:+--to \"$PROMOBOT_TO\"}", with: "--to 1.4.2")
                    .replacingOccurrences(of: "${PROMOBOT_REASON:+--reason \"$PROMOBOT_REASON\"}", with: "--reason x")
                    .replacingOccurrences(of: "\"$PROMOBOT_POLICY\"", with: "oms").replacingOccurrences(of: "\"$PROMOBOT_STAGE\"", with: "prod")
                let args = filled.split(separator: " ").dropFirst().map(String.init)
                #expect(throws: Never.self, "job \(name): \(line)") { _ = try Promobot.parseAsRoot(args) }
                commands += 1
            }
        }
        #expect(commands >= 5)
    }
}

extension DeployExamplesTests {
    /// The Jenkinsfile's `promobot set-image --resolve` line parses (paths pointed at the example deploy tree),
    /// and the config it writes for promobot validates and names variables, not secrets.
    @Test func theJenkinsfileWritesDevWithSetImageResolve() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/jenkins/Jenkinsfile"), encoding: .utf8)
        let joined = text.replacingOccurrences(of: "\\\n", with: " ")
        let line = try #require(joined.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("promobot set-image") })
        let examples = Self.root.appendingPathComponent("examples/oms-deploy").path
        let filled = line.trimmingCharacters(in: .whitespaces)
            .replacingOccurrences(of: "\"$APP_IMAGE:$VERSION\"", with: "registry.example.com/oms/app:1.5.0")
            .replacingOccurrences(of: "\"$WEB_IMAGE:$VERSION\"", with: "registry.example.com/oms/web:1.5.0")
            .replacingOccurrences(of: " dev/", with: " \(examples)/dev/")
        let args = filled.split(separator: " ", omittingEmptySubsequences: true).dropFirst().map(String.init)
        #expect(args.contains("--resolve"))
        let parsed = try Promobot.parseAsRoot(args)
        #expect(parsed is SetImageCommand)

        let start = try #require(text.range(of: "text: '''\\\n"))
        let end = try #require(text.range(of: "'''", range: start.upperBound..<text.endIndex))
        let config = String(text[start.upperBound..<end.lowerBound])
        let (loaded, diagnostics) = ConfigParser.parse(yaml: config, path: "promobot-ci.yaml", environment: [:])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        #expect(loaded?.registries.map(\.host) == ["registry.example.com"])
    }
}
