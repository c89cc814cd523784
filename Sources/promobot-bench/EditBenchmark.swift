import ArgumentParser
import Foundation
import LocalFiles
import Manifests
import PromobotCLI
import Synchronization

/// `promobot-bench edit --files 10000`: times `promobot set-image` (in-process, the command's own code
/// path) against PyYAML load+dump over the same generated tree, in one run, and checks that promobot
/// changed no byte but the tags (and counts what PyYAML changed beyond them).
struct EditBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "set-image vs PyYAML load+dump over a generated tree of manifests (figures as ratios from one run)."
    )

    @Option(help: "How many manifest files to generate.")
    var files = 10_000

    @Option(help: "The Python interpreter (needs PyYAML).")
    var python = "python3"

    @Option(help: "The PyYAML baseline script (default: scripts/bench-pyyaml.py of this source tree).")
    var script: String?

    @Flag(help: "Keep the generated trees instead of deleting them.")
    var keep = false

    static let image = "registry.example.com/oms/app"
    static let oldTag = "1.4.2"
    static let newTag = "1.5.0"

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-bench-edit-\(UUID().uuidString)").path
        let ours = root + "/promobot", theirs = root + "/pyyaml"
        defer { if !keep { try? FileManager.default.removeItem(atPath: root) } }

        // Generate two identical trees (and the expected result of each file, built independently of the editor).
        var relativePaths: [String] = []
        var bytes = 0
        for index in 0..<files {
            let relative = String(format: "team-%03d/app-%05d.yaml", index / 100, index)
            let text = Self.manifest(index, tag: Self.oldTag)
            bytes += text.utf8.count
            for tree in [ours, theirs] {
                let path = tree + "/" + relative
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            }
            relativePaths.append(relative)
        }
        print("edit benchmark: \(files) files, \(bytes / 1024) KiB, in \(root)")

        let scriptPath = script ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench-pyyaml.py").path

        // 1. The edit engine alone, in memory: ManifestEditor (parse, splice, re-parse check) vs PyYAML load+dump.
        let texts = try relativePaths.map { try ManifestFiles.read(ours + "/" + $0) }
        let engineSeconds = try Self.timeEngine(texts, parallel: true)
        let serialSeconds = try Self.timeEngine(texts, parallel: false)
        let engineBaseline = try Self.runPython(python, scriptPath, theirs, inMemory: true)

        // 2. End to end: the set-image command, in-process (collect, read, edit, check, atomic write).
        let clock = ContinuousClock()
        let started = clock.now
        let parsed = try Promobot.parseAsRoot(["set-image", "\(Self.image):\(Self.newTag)", ours])
        guard let command = parsed as? SetImageCommand else { throw ValidationError("set-image did not parse") }
        let outcome = command.execute()
        let ourSeconds = Self.seconds(clock.now - started)
        guard outcome.exitCode == 0 else { throw ValidationError("set-image failed: \(outcome.errors.prefix(2000))") }

        // PyYAML: read + load + set tag + dump + write in place, timed inside Python (start-up excluded).
        let baseline = try Self.runPython(python, scriptPath, theirs, inMemory: false)

        // Verify: ours must equal the expected text exactly; count what PyYAML changed beyond the tag.
        var oursWrong = 0, theirsWrong = 0, commentsLost = 0
        for (index, relative) in relativePaths.enumerated() {
            let expected = Self.manifest(index, tag: Self.newTag)
            let ourText = try String(contentsOfFile: ours + "/" + relative, encoding: .utf8)
            let theirText = try String(contentsOfFile: theirs + "/" + relative, encoding: .utf8)
            if ourText != expected { oursWrong += 1 }
            if theirText != expected { theirsWrong += 1 }
            commentsLost += expected.split(separator: "\n").filter { $0.contains("# ") && !theirText.contains($0) }.count
        }

        let engineRate = Double(files) / engineSeconds
        let engineTheirRate = Double(engineBaseline.files) / engineBaseline.seconds
        let serialRate = Double(files) / serialSeconds
        print(String(format: "in memory: promobot ManifestEditor %.0f files/s (%d cores), PyYAML %@/%@ load+dump %.0f files/s: %.1fx",
                     engineRate, ProcessInfo.processInfo.activeProcessorCount, engineBaseline.loader, engineBaseline.dumper,
                     engineTheirRate, engineRate / engineTheirRate))
        print(String(format: "in memory, one thread each: promobot %.0f files/s vs PyYAML %.0f files/s: %.1fx",
                     serialRate, engineTheirRate, serialRate / engineTheirRate))
        let ourRate = Double(files) / ourSeconds
        let theirRate = Double(baseline.files) / baseline.seconds
        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("end to end (read, edit, write; promobot writes atomically, PyYAML in place):")
        print(String(format: "promobot set-image: %.0f files/s (%.3f s, %d changes, %d cores)", ourRate, ourSeconds,
                     outcome.changes.count, cores))
        print(String(format: "PyYAML %@/%@ load+dump: %.0f files/s (%.3f s)", baseline.loader, baseline.dumper,
                     theirRate, baseline.seconds))
        print(String(format: "ratio: promobot is %.1fx faster than PyYAML", ourRate / theirRate))
        print("promobot: \(oursWrong) of \(files) files differ from the expected text (non-tag bytes changed)")
        print("PyYAML: \(theirsWrong) of \(files) files changed beyond the tag; \(commentsLost) comment lines lost")
        if oursWrong > 0 { throw ExitCode(1) }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    struct Baseline: Decodable {
        var files: Int
        var seconds: Double
        var loader: String
        var dumper: String
    }

    /// Edits every text in memory with the same parallelism as `ManifestFiles.plan`; returns seconds.
    static func timeEngine(_ texts: [String], parallel: Bool) throws -> Double {
        let updates = [ImageUpdate(image: image, tag: newTag)]
        let failures = Mutex(0)
        let clock = ContinuousClock()
        let started = clock.now
        let body: @Sendable (Int) -> Void = { index in
            do {
                let result = try ManifestEditor.edit(texts[index], path: "f.yaml", updates: updates)
                if result.changes.isEmpty { failures.withLock { $0 += 1 } }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        if parallel {
            DispatchQueue.concurrentPerform(iterations: texts.count, execute: body)
        } else {
            for index in texts.indices { body(index) }
        }
        let elapsed = seconds(clock.now - started)
        let failed = failures.withLock { $0 }
        guard failed == 0 else { throw ValidationError("\(failed) in-memory edits failed") }
        return elapsed
    }

    static func runPython(_ python: String, _ script: String, _ tree: String, inMemory: Bool) throws -> Baseline {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, tree, image, newTag] + (inMemory ? ["--in-memory"] : [])
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(python) \(script) failed with status \(process.terminationStatus) (is PyYAML installed?)")
        }
        return try JSONDecoder().decode(Baseline.self, from: data)
    }

    /// A realistic manifest; the kind, quoting and details vary with `index`. Only the tag depends on `tag`.
    static func manifest(_ index: Int, tag: String) -> String {
        let reference = "\(image):\(tag)"
        let quoted = [reference, "\"\(reference)\"", "'\(reference)'"][index % 3]
        let namespace = "team-\(index / 100)"
        switch index % 5 {
        case 0, 1:
            return """
                # Order management backend \(index), generated for the edit benchmark.
                # The tag is promoted by promobot; keep comments and formatting intact.
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: app-\(index)
                  namespace: \(namespace)
                  labels:
                    app.kubernetes.io/name: app-\(index)
                    app.kubernetes.io/part-of: oms
                spec:
                  replicas: \(index % 4 + 1)
                  revisionHistoryLimit: 5
                  selector:
                    matchLabels:
                      app.kubernetes.io/name: app-\(index)
                  template:
                    metadata:
                      labels:
                        app.kubernetes.io/name: app-\(index)
                    spec:
                      initContainers:
                        - name: migrate
                          image: \(quoted)
                          args: ["migrate", "--to", "latest"]
                      containers:
                        - name: app
                          image: \(quoted)  # promoted by promobot
                          imagePullPolicy: IfNotPresent
                          ports:
                            - name: http
                              containerPort: 8080
                          env:
                            - name: SPRING_PROFILES_ACTIVE
                              value: "prod"
                            - name: DB_URL
                              value: jdbc:postgresql://db.\(namespace).svc:5432/oms
                            - name: JAVA_TOOL_OPTIONS
                              value: >-
                                -XX:MaxRAMPercentage=75
                                -XX:+ExitOnOutOfMemoryError
                          resources:
                            requests: {cpu: 250m, memory: 512Mi}
                            limits:
                              cpu: "1"
                              memory: 1Gi
                          readinessProbe:
                            httpGet:
                              path: /actuator/health/readiness
                              port: http
                            periodSeconds: 5
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: app-\(index)
                  namespace: \(namespace)
                spec:
                  selector:
                    app.kubernetes.io/name: app-\(index)
                  ports:
                    - name: http
                      port: 80
                      targetPort: http

                """
        case 2:
            return """
                # CronJob \(index): nightly report.
                apiVersion: batch/v1
                kind: CronJob
                metadata:
                  name: report-\(index)
                  namespace: \(namespace)
                spec:
                  schedule: "0 3 * * *"
                  jobTemplate:
                    spec:
                      template:
                        spec:
                          restartPolicy: OnFailure
                          containers:
                            - name: report
                              image: \(quoted)
                              command:
                                - /bin/sh
                                - -c
                                - |
                                  echo "report for \(namespace)"
                                  ./report --since=24h

                """
        case 3:
            return """
                # kustomization for \(namespace)
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                namespace: \(namespace)
                resources:
                  - deployment.yaml
                  - service.yaml
                images:
                  - name: \(image)
                    newTag: \(tag)  # promoted by promobot
                  - name: docker.io/library/redis
                    newTag: "7.2"

                """
        default:
            return """
                # Helm values for app \(index)
                replicaCount: \(index % 3 + 2)

                image:
                  registry: registry.example.com
                  repository: oms/app
                  tag: "\(tag)"  # promoted by promobot
                  pullPolicy: IfNotPresent

                service:
                  type: ClusterIP
                  port: 8080

                resources:
                  requests:
                    cpu: 100m
                    memory: 128Mi

                """
        }
    }
}
