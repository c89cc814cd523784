import ArgumentParser
import Foundation
import GitLab
import Manifests
import Policies

/// `promobot webhooks ...`: the GitLab webhooks that point at promobot (`promobot serve`).
struct WebhooksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Manage the GitLab webhooks that send events to promobot.",
        subcommands: [WebhooksInstallCommand.self]
    )
}

/// `promobot webhooks install`: one project hook per deploy repository, pointing at promobot's receiver.
struct WebhooksInstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Register (or update) promobot's webhook on every deploy repository the policies name.",
        discussion: """
        For each distinct repository of the policies' stages, a project hook for push, merge request and \
        pipeline events (the others off, TLS verification on) pointing at URL, with the webhook secret as its \
        token. A hook whose URL equals URL is promobot's: it is updated (PUT) on every run, because GitLab never \
        shows a hook's token, so re-sending it is the only way to be sure the secret matches; any other URL \
        gets a new hook. Running it twice leaves one hook per repository. Needs the Maintainer role.

        The secret comes from 'webhook.secretEnv' (default PROMOBOT_WEBHOOK_SECRET) or 'webhook.secretFile' \
        and is never printed.

        Exit codes as 'run': 0 every repository done; 1 GitLab failed for some repository (the others are \
        still done); 2 bad usage or configuration (no URL, no secret, no token).
        """
    )

    @OptionGroup(title: "Configuration") var options: EngineOptions

    @Option(name: .long, help: "Where GitLab should send events, e.g. https://promobot.example.com/hooks/gitlab (default: the config's 'webhook.url').")
    var url: String?

    @Flag(name: .long, help: "Say what would be done per repository; write nothing to GitLab.")
    var dryRun = false

    func validate() throws {
        // Not echoed: a URL with user:password@ would put a secret into a CI log.
        if let url, !ConfigParser.isServiceURL(url) {
            throw ValidationError("'--url' must be an absolute http:// or https:// URL without credentials")
        }
    }

    func run() async throws {
        let install: WebhookInstall
        do {
            install = try WebhookInstall.load(options, url: url, dryRun: dryRun)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("promobot: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        if install.projects.isEmpty {
            FileHandle.standardError.write(Data("promobot: no policy names a deploy repository; nothing to do\n".utf8))
            return
        }
        var failed = false
        for project in install.projects {
            do {
                print(try await install.apply(to: project))
            } catch {
                FileHandle.standardError.write(Data("promobot: \(EchoText.escapingControls(project)): \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// What `webhooks install` does, per repository: find promobot's hook by its URL, then update it or create one.
struct WebhookInstall {
    /// Deploy repositories, each once, sorted.
    var projects: [String]
    var url: String
    var client: GitLabClient
    /// The hook's settings, secret included (never printed: `HookToken` hides it).
    var settings: ProjectHookSettings
    var dryRun: Bool

    /// promobot's events: pushes (every branch), merge requests and pipelines; nothing else.
    static let events = ProjectHookEvents(push: true, tagPush: false, mergeRequests: true, pipelines: true, notes: false)

    /// Reads the config, the policies, the GitLab access and the webhook secret, as `run` does.
    /// - Throws: ``ConfigurationError`` naming what to set (the URL, the secret's variable or file, the token).
    static func load(_ options: EngineOptions, url: String?, dryRun: Bool,
                     environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WebhookInstall {
        let config = try Runtime.loadConfig(options.config, environment: environment)
        let file = config.sourcePath ?? ConfigParser.defaultFileName
        guard let url = url ?? config.webhook.url else {
            throw ConfigurationError("no webhook URL: pass --url or set 'webhook.url' in \(file)")
        }
        let (policies, _) = try Runtime.loadPolicies(options, config: config)
        let (gitlabURL, gitlabToken) = try Runtime.gitlabURLAndToken(config, environment: environment)
        let secret: String
        do {
            guard let resolved = try config.webhook.resolveSecret(environment: environment, readFile: Runtime.readSecretFile) else {
                throw ConfigurationError("no webhook secret configured: set 'webhook.secretEnv' or 'webhook.secretFile' in \(file)")
            }
            secret = resolved
        } catch let error as TokenResolutionError {
            throw ConfigurationError("\(error)")
        }
        let client = GitLabClient(baseURL: gitlabURL, token: GitLabToken(gitlabToken), transport: Runtime.client(caBundle: config.gitlab.caBundle),
                                  budget: RequestBudget(requestsPerMinute: config.requestsPerMinute))
        return WebhookInstall(
            projects: Array(Set(policies.flatMap { $0.stages.map(\.repository) })).sorted(), url: url, client: client,
            settings: ProjectHookSettings(url: url, token: HookToken(secret), events: events, enableSSLVerification: true),
            dryRun: dryRun)
    }

    /// Updates promobot's hook on `project` (the lowest id whose URL is `url`), or creates one; with `dryRun`,
    /// only reads. Returns the line to print.
    /// - Throws: `GitLabError` or the transport's error.
    func apply(to project: String) async throws -> String {
        let hooks = try await client.hooks(ProjectRef.path(project))
        let ours = hooks.filter { $0.url == url }.sorted { $0.id < $1.id }
        let others = ours.count > 1 ? " (\(ours.count - 1) other hook(s) with this URL left as they are)" : ""
        let target = "-> \(EchoText.escapingControls(url)) (\(settings.events))"
        let name = EchoText.escapingControls(project)
        switch (ours.first, dryRun) {
        case (let hook?, true): return "\(name): would update hook \(hook.id) \(target)\(others)"
        case (nil, true): return "\(name): would create a hook \(target)"
        case (let hook?, false):
            let updated = try await client.updateHook(.path(project), id: hook.id, settings)
            return "\(name): updated hook \(updated.id) \(target)\(others)"
        case (nil, false):
            let created = try await client.createHook(.path(project), settings)
            return "\(name): created hook \(created.id) \(target)"
        }
    }
}
