import ArgumentParser
import Foundation
import HTTP
import LocalFiles
import Manifests
import Policies
import Registry

/// `promobot set-image IMAGE:TAG|IMAGE@DIGEST... PATH...`: sets image tags/digests in Kubernetes manifests,
/// kustomizations and Helm values files, changing only the version bytes. The drop-in for the seed's
/// `./update-image-tag.py dev/app/deploy.yaml $appImgVersion` CI step.
///
/// All files are processed; if any file fails (invalid YAML, failed safety check) or an image is found in
/// none of the paths, nothing is written and the exit status is 1. `package` so the benchmark can run the
/// exact same code path in-process.
package struct SetImageCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "set-image",
        abstract: "Set image tags/digests in manifests, changing nothing but the version text.",
        discussion: """
            Arguments are updates (IMAGE:TAG, IMAGE@DIGEST or IMAGE:TAG@DIGEST) and files or folders \
            (searched for *.yaml and *.yml), in any order. An argument that names an existing file or \
            folder is always a path, even if it also reads as an image reference; anything else must be \
            an image reference with a tag or digest. Images are matched by normalised name, so nginx, \
            library/nginx and docker.io/library/nginx are the same image.

            Prints one line per change (path:line: image old -> new). Files already at the version are \
            reported as unchanged. Helm templates ({{ }}) whose template actions are what keeps them from \
            parsing as YAML are skipped with a notice; any other file that is not valid YAML is an error. \
            A file named twice (or through a symbolic link) is edited once; a link is never replaced: its \
            target is edited when it lies inside the given paths, and refused otherwise. Files larger than \
            4 MiB are refused. If any file cannot be edited safely, or an image is found in none of the \
            paths, nothing is written and the exit status is 1; writes are all or nothing. Bad arguments \
            (including two updates for the same image) exit with status 2. With --dry-run, prints a \
            unified diff (stdout, accepted by patch -p1 and git apply) and the change lines (stderr) and \
            writes nothing.

            With --resolve, each IMAGE:TAG is first pinned to the digest its registry resolves the tag to \
            (written as IMAGE:TAG@DIGEST; an update that already names a digest is checked to exist). \
            Credentials come from the config's 'registries:' (--config, else ./promobot.yaml), Docker's \
            config.json (DOCKER_CONFIG) and GitLab CI's CI_REGISTRY_USER/CI_REGISTRY_PASSWORD; a registry \
            with none of them is asked anonymously. A tag the registry does not have is an error, and \
            nothing is written.
            """
    )

    @Flag(name: .long, help: "Print a unified diff instead of writing the files.")
    var dryRun = false

    @Flag(name: .long, help: "Pin each IMAGE:TAG to the digest its registry resolves now (IMAGE:TAG@DIGEST).")
    var resolve = false

    @Option(name: .long, help: ArgumentHelp("The config file whose 'registries:' --resolve uses (default: ./promobot.yaml when present).", valueName: "file"))
    var config: String?

    @Argument(help: ArgumentHelp("Updates (IMAGE:TAG, IMAGE@DIGEST) and manifest files or folders, in any order.",
                                 valueName: "image-or-path"))
    var arguments: [String] = []

    package init() {}

    /// What the command would print and its exit status; ``run()`` prints it.
    package struct Outcome: Sendable {
        /// Standard output: change lines, or the diff with `--dry-run`.
        package var output = ""
        /// Standard error: notices, errors (and change lines with `--dry-run`).
        package var errors = ""
        /// 0 on success (including "unchanged"), 1 when anything failed.
        package var exitCode: Int32 = 0
        /// The change records (written, or would be with `--dry-run`).
        package var changes: [ImageChange] = []
    }

    package func validate() throws {
        _ = try Self.classify(arguments)
        if config != nil && !resolve { throw ValidationError("'--config' is only used with '--resolve'") }
    }

    package func run() async throws {
        var command = self
        if resolve {
            let environment = ProcessInfo.processInfo.environment
            let registry: RegistryClient
            do {
                registry = try Self.registry(for: arguments, config: config, environment: environment)
            } catch {
                FileHandle.standardError.write(Data("error: \(Self.line(error))\nerror: nothing was written\n".utf8))
                throw ExitCode(1)
            }
            let resolved = await Self.resolving(arguments, with: registry)
            if !resolved.errors.isEmpty { FileHandle.standardError.write(Data(resolved.errors.utf8)) }
            guard let pinned = resolved.arguments else { throw ExitCode(1) }
            command.arguments = pinned
        }
        let outcome = command.execute()
        if !outcome.output.isEmpty { print(outcome.output, terminator: "") }
        if !outcome.errors.isEmpty { FileHandle.standardError.write(Data(outcome.errors.utf8)) }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    /// Splits arguments into updates and paths: an existing path wins; otherwise an image reference with a
    /// tag or digest is an update.
    /// - Throws: `ValidationError` (exit status 2) naming an argument that is neither, when updates or paths
    ///   are missing, or when two updates name the same image (in any spelling). Arguments are echoed
    ///   escaped (``EchoText``).
    static func classify(_ arguments: [String]) throws -> (updates: [ImageUpdate], paths: [String]) {
        var updates: [ImageUpdate] = []
        var paths: [String] = []
        var given: [String: String] = [:]  // image name -> the argument that set it
        for argument in arguments {
            if FileManager.default.fileExists(atPath: argument) {
                paths.append(argument)
                continue
            }
            let shown = EchoText.escapingControls(argument)
            let update: ImageUpdate
            do {
                update = try ImageUpdate(parsing: argument)
            } catch {
                if argument.contains(":") || argument.contains("@") {
                    throw ValidationError("'\(shown)' is not an existing path, and as an image: \(EchoText.escapingControls(error.description))")
                }
                throw ValidationError("'\(shown)': no such file or folder (and not IMAGE:TAG or IMAGE@DIGEST)")
            }
            if let earlier = given[update.image] {
                throw ValidationError("'\(EchoText.escapingControls(earlier))' and '\(shown)' both set \(update.image); give one update per image")
            }
            given[update.image] = argument
            updates.append(update)
        }
        guard !updates.isEmpty else { throw ValidationError("give at least one IMAGE:TAG or IMAGE@DIGEST to set") }
        guard !paths.isEmpty else { throw ValidationError("give at least one manifest file or folder to edit") }
        return (updates, paths)
    }

    /// Plans every edit, then writes all changed files (or renders the diff) only if nothing failed.
    /// Every line echoes paths and values from files or argv through ``EchoText`` (one line each, no
    /// escape sequences); the diff body is the files' own text (YAML that parsed holds no C0 controls
    /// but tab and CR, which `patch` needs kept).
    package func execute() -> Outcome {
        var outcome = Outcome()
        let paths: [String], plan: EditPlan
        do {
            let (updates, classified) = try Self.classify(arguments)
            paths = classified
            plan = try ManifestFiles.plan(updates: updates, paths: paths)
        } catch {
            outcome.errors = "error: \(Self.line(error))\n"
            outcome.exitCode = 1
            return outcome
        }
        var lines = ""
        for file in plan.files {
            for notice in file.result.notices { outcome.errors += "notice: \(Self.line(notice))\n" }
            for change in file.result.changes { lines += "\(Self.line(change))\n" }
            if file.result.changes.isEmpty {
                for found in file.result.matched {
                    lines += Self.line("\(file.path):\(found.line): \(found.reference.familiarName) already at \(found.reference.version) (unchanged)") + "\n"
                }
            }
        }
        outcome.changes = plan.changes
        for failure in plan.failures {
            outcome.errors += "error: \(Self.line(failure))\n"
        }
        let searched = paths.joined(separator: ", ")
        for update in plan.unmatchedUpdates {
            let scope = plan.failures.isEmpty ? searched : "the files of \(searched) that could be read"
            outcome.errors += "error: " + Self.line("image \(update.image) not found in \(scope); check the name and paths") + "\n"
        }
        if dryRun {
            outcome.errors += lines
            for file in plan.files where file.isChanged {
                outcome.output += UnifiedDiff.render(path: file.path, old: file.original, new: file.result.text)
            }
        } else {
            outcome.output = lines
        }
        if plan.refusesToWrite {
            if !dryRun { outcome.errors += "error: nothing was written\n" }
            outcome.exitCode = 1
            return outcome
        }
        guard !dryRun else { return outcome }
        do {
            try ManifestFiles.commit(plan)
        } catch {
            outcome.errors += "error: \(Self.line(error))\n"
            outcome.exitCode = 1
        }
        return outcome
    }

    // MARK: - --resolve

    /// A registry client for the images `arguments` name: the config's `registries:` (and CI's registry), plus
    /// every other image host asked anonymously or with Docker's `config.json` credentials (the user asked to
    /// resolve those images). Credentials stay with their host.
    /// - Throws: a configuration problem (a diagnostic of the config file, a credential that cannot be read).
    static func registry(for arguments: [String], config path: String?, environment: [String: String]) throws -> RegistryClient {
        let loaded = ConfigParser.load(explicit: path, environment: environment)
        guard let config = loaded.config else {
            throw ValidationError(loaded.diagnostics.map(\.formatted).joined(separator: "\n"))
        }
        var settings = config.registries
        for argument in arguments where !FileManager.default.fileExists(atPath: argument) {
            guard let reference = try? ImageReference.parse(argument) else { continue }
            let host = RegistryDirectory.normalizedHost(reference.registry)
            if !settings.contains(where: { RegistryDirectory.normalizedHost($0.host) == host }) { settings.append(RegistrySettings(host: host)) }
        }
        let directory = try RegistryDirectory(settings: settings, environment: environment,
                                              readFile: { try String(contentsOfFile: $0, encoding: .utf8) })
        return RegistryClient(directory: directory, transport: RegistryClient.transport())
    }

    /// `arguments` with each update pinned to the digest its registry resolves (paths unchanged), and one line
    /// per resolution for stderr; `arguments` nil when any image could not be resolved (each said in `errors`).
    static func resolving(_ arguments: [String], with registry: some ImageRegistry) async -> (arguments: [String]?, errors: String) {
        var result: [String] = []
        var errors = ""
        var failed = false
        for argument in arguments {
            guard !FileManager.default.fileExists(atPath: argument), let update = try? ImageUpdate(parsing: argument) else {
                result.append(argument)
                continue
            }
            let version = ImageVersion(tag: update.tag, digest: update.digest)
            let lookup = await registry.lookup(image: update.image, version: version)
            let shown = EchoText.escapingControls(argument)
            switch lookup.outcome {
            case let .found(digest):
                if let pinned = update.digest, pinned != digest, update.tag != nil {
                    errors += "error: \(shown): the tag now points at \(digest), not the digest given; nothing was written\n"
                    failed = true
                }
                result.append(update.image + (update.tag.map { ":\($0)" } ?? "") + "@\(digest)")
                errors += "resolved \(shown) -> \(digest)\n"
            case let .notFound(code):
                errors += "error: \(shown) not found in its registry (\(code)); check the tag, or push the image first\n"
                failed = true
            case let .unknown(reason):
                errors += "error: \(shown) could not be resolved: \(Self.line(reason))\n"
                failed = true
            case .notConfigured:
                errors += "error: \(shown): no registry is configured for \(lookup.host)\n"
                failed = true
            }
        }
        if failed { errors += "error: nothing was written\n" }
        return (failed ? nil : result, errors)
    }

    /// One output line: the text with control characters escaped, so nothing echoed can start a line.
    static func line(_ value: Any) -> String {
        EchoText.escapingControls("\(value)")
    }
}
