import Foundation
import LocalFiles
import Policies
import Yams

// `projects:`, `generate:`, `argocd:` and `prometheus:` of a seed file.
extension SandboxSeedParser.Parser {
    // MARK: Projects

    mutating func projects(_ node: Node) -> [SandboxSeed.Project] {
        var projects: [SandboxSeed.Project] = []
        for (mapping, entries, index) in items(node, "projects", itemName: "project", allowed: SandboxSeedParser.projectKeys) {
            guard let (project, pathNode) = project(mapping, entries, context: "in project \(index + 1) of 'projects'") else { continue }
            if claim(project.path, at: pathNode, generated: nil) { projects.append(project) }
        }
        return projects
    }

    /// Each generator's projects, numbered 1...count; `planned` projects come before them.
    mutating func generated(_ node: Node, planned: Int) -> [SandboxSeed.Project] {
        var projects: [SandboxSeed.Project] = []
        let placeholder = SandboxSeedParser.numberPlaceholder
        for (mapping, entries, index) in items(node, "generate", itemName: "generator", allowed: SandboxSeedParser.generatorKeys) {
            let context = "in generator \(index + 1) of 'generate'"
            let room = SandboxSeedParser.maxProjects - planned - projects.count
            var count: Int?
            if let entry = entries["count"], let value = reader.int(entry.value, "'count' \(context)") {
                if value < 1 || value > room {
                    reader.error("'count' \(context) must be between 1 and \(max(room, 1)), found \(value): a seed creates at most \(SandboxSeedParser.maxProjects) projects",
                                 at: entry.value)
                } else {
                    count = value
                }
            } else if entries["count"] == nil {
                reader.missing("count", context, at: mapping.mark)
            }
            guard let (template, pathNode) = project(mapping, entries, context: context, placeholder: placeholder) else { continue }
            guard template.path.contains(placeholder) else {
                reader.error("'path' \(context) must contain \(placeholder) (each project's number), e.g. bench/deploy-\(placeholder)", at: pathNode)
                continue
            }
            guard let count else { continue }
            for n in 1...count {
                let project = Self.expand(template, n: n)
                guard claim(project.path, at: pathNode, generated: n) else { break }
                projects.append(project)
            }
        }
        return projects
    }

    /// `template` with every `{n}` in its path, file paths and contents replaced by `n`.
    static func expand(_ template: SandboxSeed.Project, n: Int) -> SandboxSeed.Project {
        let placeholder = SandboxSeedParser.numberPlaceholder, number = String(n)
        var project = template
        project.path = template.path.replacingOccurrences(of: placeholder, with: number)
        project.files = Dictionary(uniqueKeysWithValues: template.files.map { path, content in
            (path.replacingOccurrences(of: placeholder, with: number), content.replacingOccurrences(of: placeholder, with: number))
        })
        return project
    }

    /// Records `path` as taken; false (reported at `node`) when another project already has it.
    mutating func claim(_ path: String, at node: Node, generated n: Int?) -> Bool {
        let key = path.lowercased()
        if let line = projectLines[key] {
            let which = n.map { "the generated path '\(path)' (n = \($0))" } ?? "project '\(path)'"
            reader.error("\(which) is already defined at line \(line): project paths must be unique (GitLab ignores case)", at: node)
            return false
        }
        projectLines[key] = node.mark?.line ?? 0
        return true
    }

    /// A project's keys, checked; `placeholder` (in a generator) may stand in its path and files. Returns the
    /// project (path unexpanded) and its `path` node, or nil when something is wrong.
    mutating func project(_ mapping: Node.Mapping, _ entries: Entries, context: String,
                          placeholder: String? = nil) -> (SandboxSeed.Project, Node)? {
        guard let (path, pathNode) = required("path", entries, mapping, context) else { return nil }
        var ok = true
        let sample = placeholder.map { path.replacingOccurrences(of: $0, with: "1") } ?? path
        if let problem = SandboxSeedParser.projectPathProblem(sample) {
            reader.error("invalid project path '\(YAMLReader.excerpt(path))' \(context): it \(problem)", at: pathNode)
            ok = false
        }
        let named = placeholder == nil ? "in project '\(YAMLReader.excerpt(path, limit: 60))'" : context
        var project = SandboxSeed.Project(path: path)
        if let entry = entries["defaultBranch"] {
            if let branch = branch(entry.value, "'defaultBranch' \(named)") { project.defaultBranch = branch } else { ok = false }
        }
        if let entry = entries["import"] {
            if let files = importedFiles(entry.value, named) { project.files = files } else { ok = false }
        }
        if let entry = entries["files"] {
            if let files = inlineFiles(entry.value, named, placeholder: placeholder) {
                project.files.merge(files) { _, inline in inline }
            } else {
                ok = false
            }
        }
        if project.files.count > SandboxSeedParser.maxFilesPerProject {
            reader.error("\(named) holds \(project.files.count) files: a project's first commit may hold at most \(SandboxSeedParser.maxFilesPerProject)",
                         at: entries["import"]?.key ?? entries["files"]?.key)
            ok = false
        }
        if let entry = entries["protectedBranches"] {
            if let branches = protectedBranches(entry.value, named) { project.protectedBranches = branches } else { ok = false }
        }
        if let entry = entries["approvalsRequired"] {
            if let count = reader.int(entry.value, "'approvalsRequired' \(named)") {
                if (0...100).contains(count) {
                    project.approvalsRequired = count
                } else {
                    reader.error("'approvalsRequired' \(named) must be between 0 and 100, found \(count)", at: entry.value)
                    ok = false
                }
            } else {
                ok = false
            }
        }
        if let entry = entries["mergeMethod"] {
            let method: SandboxMergeMethod? = reader.string(entry.value, "'mergeMethod' \(named)")
                .flatMap { reader.choice($0, "merge method", named, at: entry.value) }
            if let method { project.mergeMethod = method } else { ok = false }
        }
        if let entry = entries["resetApprovalsOnPush"] {
            if let value = reader.bool(entry.value, "'resetApprovalsOnPush' \(named)") { project.resetApprovalsOnPush = value } else { ok = false }
        }
        if let entry = entries["pipelineMustSucceed"] {
            if let value = reader.bool(entry.value, "'pipelineMustSucceed' \(named)") { project.pipelineMustSucceed = value } else { ok = false }
        }
        return ok ? (project, pathNode) : nil
    }

    /// A branch name git accepts, or nil (reported).
    func branch(_ node: Node, _ what: String) -> String? {
        guard let name = reader.string(node, what) else { return nil }
        if let problem = SandboxSeedParser.branchProblem(name) {
            reader.error("invalid branch name '\(YAMLReader.excerpt(name))' for \(what): it \(problem)", at: node)
            return nil
        }
        return name
    }

    /// `files:`: repository path -> content (any scalar; `''` for an empty file).
    func inlineFiles(_ node: Node, _ context: String, placeholder: String?) -> [String: String]? {
        guard let mapping = reader.mapping(node, "'files' \(context)") else { return nil }
        var files: [String: String] = [:]
        var ok = true
        for (key, value) in mapping {
            guard let path = reader.string(key, "each file path in 'files' \(context)") else { ok = false; continue }
            let sample = placeholder.map { path.replacingOccurrences(of: $0, with: "1") } ?? path
            if let problem = SandboxSeedParser.filePathProblem(sample) {
                reader.error("invalid file path '\(YAMLReader.excerpt(path))' in 'files' \(context): it \(problem)", at: key)
                ok = false
                continue
            }
            guard case let .scalar(scalar) = value, !YAMLReader.isNull(value) else {
                reader.error("the content of '\(YAMLReader.excerpt(path))' in 'files' \(context) must be text (a block scalar '|' for several lines, '' for an empty file), found \(YAMLReader.describe(value))",
                             at: value)
                ok = false
                continue
            }
            files[path] = scalar.string
        }
        return ok ? files : nil
    }

    /// `import:`: every regular file under a folder (relative to the seed file; hidden entries skipped), as text.
    func importedFiles(_ node: Node, _ context: String) -> [String: String]? {
        guard let folder = reader.string(node, "'import' \(context)") else { return nil }
        let full = folder.hasPrefix("/") ? folder : baseFolder + "/" + folder
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder), isFolder.boolValue,
              let paths = YAMLFileWalk.files(under: full, including: { _ in true }) else {
            reader.error("cannot import '\(YAMLReader.excerpt(folder))' \(context): \(full) is not a folder that can be listed (the path is relative to the seed file)",
                         at: node)
            return nil
        }
        guard !paths.isEmpty else {
            reader.error("cannot import '\(YAMLReader.excerpt(folder))' \(context): the folder holds no files (hidden ones are skipped)", at: node)
            return nil
        }
        guard paths.count <= SandboxSeedParser.maxFilesPerProject else {
            reader.error("cannot import '\(YAMLReader.excerpt(folder))' \(context): it holds more than \(SandboxSeedParser.maxFilesPerProject) files", at: node)
            return nil
        }
        let root = full.hasSuffix("/") ? String(full.dropLast()) : full
        var files: [String: String] = [:]
        for path in paths {
            let relative = String(path.dropFirst(root.count + 1))
            switch SourceFile.read(path, limit: SandboxSeedParser.maxImportFileBytes) {
            case let .success(text):
                files[relative] = text
            case .failure(.tooLarge):
                reader.error("cannot import '\(YAMLReader.excerpt(folder))' \(context): \(relative) is larger than \(SandboxSeedParser.maxImportFileBytes / 1_048_576) MB",
                             at: node)
                return nil
            case let .failure(problem):
                reader.error("cannot import '\(YAMLReader.excerpt(folder))' \(context): \(relative): \(problem)", at: node)
                return nil
            }
        }
        return files
    }

    /// `protectedBranches:`: each `{name, push}`; `push` defaults to `maintainer`, as GitLab's.
    func protectedBranches(_ node: Node, _ context: String) -> [SandboxSeed.ProtectedBranch]? {
        let what = "'protectedBranches' \(context)"
        guard let list = reader.list(node, what, allowEmpty: true) else { return nil }
        var branches: [SandboxSeed.ProtectedBranch] = []
        var lines: [String: Int] = [:]
        var ok = true
        for item in list {
            guard let mapping = reader.mapping(item, "each entry of \(what)") else { ok = false; continue }
            let entries = reader.entries(mapping, allowed: SandboxSeedParser.protectedBranchKeys, context: "in \(what)")
            guard let nameEntry = entries["name"] else {
                reader.missing("name", "in \(what)", at: mapping.mark)
                ok = false
                continue
            }
            guard let name = branch(nameEntry.value, "a protected branch \(context)") else { ok = false; continue }
            if let line = lines[name] {
                reader.error("branch '\(name)' is already protected at line \(line) \(context)", at: nameEntry.value)
                ok = false
                continue
            }
            lines[name] = nameEntry.value.mark?.line ?? 0
            var access = SandboxSeedParser.PushAccess.maintainer
            if let entry = entries["push"] {
                let what = "'push' of protected branch '\(name)' \(context)"
                guard let value: SandboxSeedParser.PushAccess = reader.string(entry.value, what)
                    .flatMap({ reader.choice($0, "push access", "for protected branch '\(name)' \(context)", at: entry.value) })
                else { ok = false; continue }
                access = value
            }
            branches.append(SandboxSeed.ProtectedBranch(name: name, allowPush: access.role))
        }
        return ok ? branches : nil
    }

    // MARK: Argo CD and Prometheus

    func argoApplications(_ node: Node, projects: [SandboxSeed.Project]) -> [SandboxSeed.ArgoApplication] {
        var applications: [SandboxSeed.ArgoApplication] = []
        var lines: [String: Int] = [:]
        let paths = Set(projects.map(\.path))
        for (mapping, entries, index) in items(node, "argocd", itemName: "application", allowed: SandboxSeedParser.argoKeys) {
            guard let (name, nameNode) = required("name", entries, mapping, "in application \(index + 1) of 'argocd'") else { continue }
            let context = "in application '\(YAMLReader.excerpt(name, limit: 60))'"
            var ok = true
            if let line = lines[name] {
                reader.error("application '\(name)' is already defined at line \(line)", at: nameNode)
                ok = false
            }
            lines[name] = nameNode.mark?.line ?? 0
            var application = SandboxSeed.ArgoApplication(name: name)
            if let entry = entries["health"] {
                let health: SandboxSeedParser.ArgoHealth? = reader.string(entry.value, "'health' \(context)")
                    .flatMap { reader.choice($0, "health", context, at: entry.value) }
                if let health { application.health = health.rawValue } else { ok = false }
            }
            if let entry = entries["sync"] {
                let sync: SandboxSeedParser.ArgoSync? = reader.string(entry.value, "'sync' \(context)")
                    .flatMap { reader.choice($0, "sync status", context, at: entry.value) }
                if let sync { application.sync = sync.rawValue } else { ok = false }
            }
            if let entry = entries["images"] {
                if let images = reader.stringList(entry.value, "'images' \(context)", allowEmpty: true) {
                    application.images = images.map(\.value)
                } else {
                    ok = false
                }
            }
            if let entry = entries["syncedAgo"] {
                if let ago = reader.duration(entry.value, "'syncedAgo' \(context)") { application.syncedAgo = ago.timeInterval } else { ok = false }
            }
            if let entry = entries["project"], let project = reader.string(entry.value, "'project' \(context)") {
                if paths.contains(project) {
                    application.project = project
                } else {
                    reader.error("'project' \(context) names no project of this seed: '\(YAMLReader.excerpt(project))'\(YAMLReader.didYouMean(project, in: paths.sorted()))",
                                 at: entry.value)
                    ok = false
                }
            }
            if let entry = entries["path"], let path = reader.string(entry.value, "'path' \(context)") {
                if entries["project"] == nil {
                    reader.error("'path' \(context) needs 'project': it is a folder of that project's repository", at: entry.key)
                    ok = false
                } else {
                    application.path = path
                }
            }
            if ok { applications.append(application) }
        }
        return applications
    }

    /// `prometheus:`: query -> number (or an empty value for an empty vector).
    func prometheus(_ node: Node) -> [SandboxSeed.PrometheusValue] {
        guard let mapping = reader.mapping(node, "'prometheus' (query -> value)") else { return [] }
        var values: [SandboxSeed.PrometheusValue] = []
        for (key, value) in mapping {
            guard let query = reader.string(key, "each query in 'prometheus'") else { continue }
            if YAMLReader.isNull(value) {
                values.append(SandboxSeed.PrometheusValue(query: query, value: nil))
            } else if let number = reader.number(value, "the value of query '\(YAMLReader.excerpt(query))' in 'prometheus'") {
                values.append(SandboxSeed.PrometheusValue(query: query, value: number))
            }
        }
        return values
    }
}
