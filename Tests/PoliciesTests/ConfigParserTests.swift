import Foundation
import Testing
@testable import Policies

@Suite struct ConfigParserTests {
    struct Unreadable: Error, CustomStringConvertible { var description: String { "permission denied" } }

    @Test func fullConfig() throws {
        let yaml = """
            gitlab:
              url: https://gitlab.example.com
              tokenFile: /run/secrets/gitlab
              caBundle: /etc/ssl/corp.pem
            argocd:
              url: https://argocd.example.com
              tokenEnv: ARGOCD_TOKEN
            prometheus:
              url: http://127.0.0.1:9090
            git:
              authorName: Promo Bot
              authorEmail: bot@example.com
            policies: deploy/policies
            cache: /var/cache/promobot
            emergencyStop: true
            stopFile: STOP
            concurrency: 8
            requestsPerMinute: 120
            """
        let (config, diagnostics) = ConfigParser.parse(yaml: yaml, path: "promobot.yaml", environment: [:])
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let parsed = try #require(config)
        #expect(parsed.gitlab == ServiceEndpoint(url: "https://gitlab.example.com", tokenFile: "/run/secrets/gitlab",
                                                 caBundle: "/etc/ssl/corp.pem"))
        #expect(parsed.argocd == ServiceEndpoint(url: "https://argocd.example.com", tokenEnv: "ARGOCD_TOKEN"))
        #expect(parsed.prometheus == ServiceEndpoint(url: "http://127.0.0.1:9090"))
        #expect(parsed.gitAuthorName == "Promo Bot" && parsed.gitAuthorEmail == "bot@example.com")
        #expect(parsed.policies == "deploy/policies" && parsed.cache == "/var/cache/promobot")
        #expect(parsed.emergencyStop && parsed.stopFile == "STOP" && parsed.sourcePath == "promobot.yaml")
        #expect(parsed.concurrency == 8)
        #expect(parsed.requestsPerMinute == 120)
        #expect(parsed.webhook == WebhookSettings())
    }

    @Test func webhookBlock() throws {
        let byFile = try #require(ConfigParser.parse(
            yaml: "webhook:\n  url: https://promobot.example.com/hooks/gitlab\n  secretFile: /run/secrets/hook\n", path: "c.yaml", environment: [:]).config)
        #expect(byFile.webhook == WebhookSettings(url: "https://promobot.example.com/hooks/gitlab", secretEnv: nil, secretFile: "/run/secrets/hook"))
        let byEnv = try #require(ConfigParser.parse(yaml: "webhook:\n  secretEnv: HOOK_SECRET\n", path: "c.yaml", environment: [:]).config)
        #expect(byEnv.webhook == WebhookSettings(url: nil, secretEnv: "HOOK_SECRET"))
        let defaults = try #require(ConfigParser.parse(yaml: "webhook:\n  url: http://127.0.0.1:8080/hooks\n", path: "c.yaml", environment: [:]).config)
        #expect(defaults.webhook.secretEnv == "PROMOBOT_WEBHOOK_SECRET")
        #expect(defaults.webhook.secretFile == nil)
    }

    @Test func webhookSecretResolvesLikeATokenAndNamesItsSource() throws {
        let settings = WebhookSettings()
        #expect(try settings.resolveSecret(environment: ["PROMOBOT_WEBHOOK_SECRET": " s3cret\n"]) { _ in "" } == "s3cret")
        #expect {
            _ = try settings.resolveSecret(environment: [:]) { _ in "" }
        } throws: { error in
            (error as? TokenResolutionError)?.description
                == "the environment variable PROMOBOT_WEBHOOK_SECRET (webhook.secretEnv) is not set: export it with the webhook secret, or set 'webhook.secretFile' in the config."
        }
        #expect {
            _ = try settings.resolveSecret(environment: ["PROMOBOT_WEBHOOK_SECRET": " "]) { _ in "" }
        } throws: { error in
            (error as? TokenResolutionError)?.description == "the environment variable PROMOBOT_WEBHOOK_SECRET (webhook.secretEnv) is empty: set it to the webhook secret."
        }
        let byFile = WebhookSettings(secretFile: "/run/secrets/hook")
        #expect(try byFile.resolveSecret(environment: ["PROMOBOT_WEBHOOK_SECRET": "wrong"]) { _ in "from-file\n" } == "from-file")
        #expect {
            _ = try byFile.resolveSecret(environment: [:]) { _ in throw Unreadable() }
        } throws: { error in
            (error as? TokenResolutionError)?.description
                == "cannot read the secret file '/run/secrets/hook' (webhook.secretFile): permission denied. Check the path and its permissions."
        }
        #expect {
            _ = try byFile.resolveSecret(environment: [:]) { _ in "\n" }
        } throws: { error in
            (error as? TokenResolutionError)?.description == "the secret file '/run/secrets/hook' (webhook.secretFile) is empty: put the webhook secret in it."
        }
    }

    @Test func defaultsComeFromTheEnvironment() throws {
        let environment = ["CI_SERVER_URL": "https://gitlab.ci.example", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/bot"]
        let (config, diagnostics) = ConfigParser.parse(yaml: "gitlab:\n  caBundle: ca.pem\n", path: "c.yaml",
                                                       environment: environment)
        #expect(diagnostics.isEmpty)
        let parsed = try #require(config)
        #expect(parsed.gitlab == ServiceEndpoint(url: "https://gitlab.ci.example", tokenEnv: "GITLAB_TOKEN", caBundle: "ca.pem"))
        #expect(parsed.argocd == nil && parsed.prometheus == nil)
        #expect(parsed.gitAuthorName == "promobot" && parsed.gitAuthorEmail == "promobot@localhost")
        #expect(parsed.policies == "policies/" && parsed.cache == "/xdg/promobot")
        #expect(!parsed.emergencyStop && parsed.stopFile == ".promobot-stop")
        #expect(parsed.concurrency == 4)
        #expect(parsed.requestsPerMinute == 600)

        #expect(PromobotConfig.default(environment: ["HOME": "/home/bot"]).cache == "/home/bot/.cache/promobot")
        #expect(PromobotConfig.default(environment: ["HOME": "/home/bot"]).gitlab.url == nil)
        #expect(ConfigParser.parse(yaml: "", path: "c.yaml", environment: [:]).config == PromobotConfig.default(environment: [:]).with(source: "c.yaml"))
    }

    @Test(arguments: [
        ("gitlab:\n  url: https://gitlab.example.com\n  token: glpat-secret\n",
         "c.yaml:3:3: error: 'token' in section 'gitlab' would put a secret in the config file: use 'tokenEnv' (the name of an environment variable) or 'tokenFile' (the path of a file) instead"),
        ("gitlabToken: x\n",
         "c.yaml:1:1: error: 'gitlabToken' in the config file would put a secret in the config file: use 'tokenEnv' (the name of an environment variable) or 'tokenFile' (the path of a file) instead"),
        ("argocd:\n  tokenEnv: eyJhbGciOi.secret\n",
         "c.yaml:2:13: error: 'argocd.tokenEnv' must be the name of an environment variable (letters, digits and '_', like GITLAB_TOKEN), not the token itself"),
        ("gitlab:\n  tokenEnv: A\n  tokenFile: /f\n",
         "c.yaml:2:3: error: set only one of 'tokenEnv' and 'tokenFile' in section 'gitlab'"),
        ("gitlab:\n  url: https://user:pass@gitlab.example.com\n",
         "c.yaml:2:8: error: invalid URL for 'gitlab.url': use an absolute http:// or https:// URL without credentials"),
        ("requestsPerMinute: -5\n",
         "c.yaml:1:20: error: 'requestsPerMinute' must be between 1 and 100000, found -5"),
        ("concurrency: 0\n",
         "c.yaml:1:14: error: 'concurrency' must be between 1 and 32, found 0"),
        ("concurrency: many\n",
         "c.yaml:1:14: error: 'concurrency' in the config file must be a whole number, found 'many'"),
        ("emergencyStop: yes please\n",
         "c.yaml:1:16: error: 'emergencyStop' in the config file must be true or false, found 'yes please'"),
        ("prometheus:\n  ur: http://x\n",
         "c.yaml:2:3: error: unknown key 'ur' in section 'prometheus' (did you mean 'url'?)"),
        ("polices: p/\n",
         "c.yaml:1:1: error: unknown key 'polices' in the config file (did you mean 'policies'?)"),
        ("git:\n  authorEmail: nobody\n",
         "c.yaml:2:16: error: invalid email 'nobody' for 'git.authorEmail': use name@domain"),
        ("stopFile: /etc/stop\n",
         "c.yaml:1:11: error: 'stopFile' '/etc/stop' must be relative to the repository root (remove the leading '/'): it names a file inside the policies repository"),
        ("- a\n", "c.yaml:1:1: error: the config file must be a mapping of keys to values, found a list"),
        ("webhook:\n  url: https://promobot.example.com/hooks\n  secret: glpat-secret\n",
         "c.yaml:3:3: error: 'secret' in section 'webhook' would put a secret in the config file: use 'secretEnv' (the name of an environment variable) or 'secretFile' (the path of a file) instead"),
        ("webhook:\n  token: glpat-secret\n",
         "c.yaml:2:3: error: 'token' in section 'webhook' would put a secret in the config file: use 'secretEnv' (the name of an environment variable) or 'secretFile' (the path of a file) instead"),
        ("webhook:\n  secretEnv: glpat-secret value\n",
         "c.yaml:2:14: error: 'webhook.secretEnv' must be the name of an environment variable (letters, digits and '_', like PROMOBOT_WEBHOOK_SECRET), not the secret itself"),
        ("webhook:\n  secretEnv: A\n  secretFile: /f\n",
         "c.yaml:2:3: error: set only one of 'secretEnv' and 'secretFile' in section 'webhook'"),
        ("webhook:\n  url: https://user:pass@promobot.example.com/hooks\n",
         "c.yaml:2:8: error: invalid URL for 'webhook.url': use an absolute http:// or https:// URL without credentials"),
        ("webhook:\n  url: promobot.example.com\n",
         "c.yaml:2:8: error: invalid URL for 'webhook.url': use an absolute http:// or https:// URL without credentials"),
    ])
    func errors(yaml: String, expected: String) {
        let (config, diagnostics) = ConfigParser.parse(yaml: yaml, path: "c.yaml", environment: [:])
        #expect(config == nil)
        #expect(diagnostics.map(\.formatted) == [expected])
        #expect(!diagnostics.contains { $0.message.contains("glpat-secret") || $0.message.contains("eyJhbGciOi") || $0.message.contains("pass@") })
    }

    @Test func tokenFromEnvironment() throws {
        let endpoint = ServiceEndpoint(url: "https://gitlab.example.com", tokenEnv: "GITLAB_TOKEN")
        let token = try endpoint.resolveToken(environment: ["GITLAB_TOKEN": " glpat-123\n"]) { _ in
            Issue.record("no file should be read")
            return ""
        }
        #expect(token == "glpat-123")
    }

    @Test func missingEnvironmentVariableIsAClearError() {
        let endpoint = ServiceEndpoint(url: "https://gitlab.example.com", tokenEnv: "GITLAB_TOKEN")
        #expect {
            _ = try endpoint.resolveToken(environment: [:]) { _ in "" }
        } throws: { error in
            (error as? TokenResolutionError)?.description
                == "the environment variable GITLAB_TOKEN (tokenEnv for https://gitlab.example.com) is not set: export it with the API token, or set 'tokenFile' in the config."
        }
        #expect(throws: TokenResolutionError.self) {
            _ = try endpoint.resolveToken(environment: ["GITLAB_TOKEN": "  "]) { _ in "" }
        }
    }

    @Test func tokenFromFile() throws {
        let endpoint = ServiceEndpoint(tokenFile: "/run/secrets/t")
        var asked: [String] = []
        let token = try endpoint.resolveToken(environment: ["GITLAB_TOKEN": "wrong"]) { path in
            asked.append(path)
            return "from-file\n"
        }
        #expect(token == "from-file" && asked == ["/run/secrets/t"])

        #expect {
            _ = try endpoint.resolveToken(environment: [:]) { _ in throw Unreadable() }
        } throws: { error in
            (error as? TokenResolutionError)?.description
                == "cannot read the token file '/run/secrets/t' (tokenFile): permission denied. Check the path and its permissions."
        }
        #expect(throws: TokenResolutionError.self) { _ = try endpoint.resolveToken(environment: [:]) { _ in "\n" } }
    }

    @Test func theOneLoaderFindsTheFileOrFallsBackToDefaults() throws {
        let missing = "/nonexistent-\(UUID().uuidString)/promobot.yaml"
        let unreadable = ConfigParser.load(explicit: missing, environment: [:])
        #expect(unreadable.path == missing && unreadable.config == nil)
        #expect(unreadable.diagnostics.map(\.formatted) == ["\(missing): error: cannot read the file: it does not exist"])

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("promobot-\(UUID().uuidString).yaml").path
        try "concurrency: 2\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let loaded = ConfigParser.load(explicit: file, environment: [:])
        #expect(loaded.path == file && loaded.config?.concurrency == 2 && loaded.diagnostics.isEmpty)
        #expect(ConfigParser.servicesMissing(for: [], config: try #require(loaded.config)).isEmpty)
    }

    @Test func noTokenConfiguredIsNil() throws {
        #expect(try ServiceEndpoint(url: "http://127.0.0.1:9090").resolveToken(environment: ["X": "y"]) { _ in "z" } == nil)
    }
}

extension PromobotConfig {
    func with(source: String) -> PromobotConfig {
        var copy = self
        copy.sourcePath = source
        return copy
    }
}
