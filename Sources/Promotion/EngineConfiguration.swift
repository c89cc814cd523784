import Foundation
import Planning
import Git
import Policies

/// Everything the engine needs to know besides the policies and its adapters.
public struct EngineConfiguration: Sendable {
    /// Name and email on the bot's commits; also how the bot recognises its own pushes.
    public var authorName: String
    public var authorEmail: String
    /// GitLab's web root (`https://gitlab.example.com`), used to derive clone URLs and links.
    public var gitlabURL: URL
    /// Credentials for git: the token over https, a key over ssh. Held in memory only.
    public var gitCredentials: GitCredentials
    /// How git reaches GitLab: https clone URLs derived from `gitlabURL`, or GitLab's `ssh_url_to_repo`.
    public var gitTransport: GitTransport = .https
    /// Plan only: no push, no API write.
    public var dryRun: Bool
    /// When set, no MR is opened, updated or merged; the reason is shown in every plan.
    public var emergencyStop: String?
    /// How far back upstream history is read for soak. Soaks longer than this count from the horizon.
    public var historyHorizon: TimeInterval
    /// Upper bound on commits read per upstream history walk.
    public var maxHistoryCommits: Int
    /// Whether to close bot MRs whose policy or stage no longer exists (only safe when all policies are loaded).
    public var closeOrphans: Bool
    /// How many groups of policies that share no repository are reconciled at once. Each cycle is
    /// mostly waiting on GitLab, so a few lanes cut its wall time several-fold; 1 is strictly sequential.
    public var concurrency: Int
    /// How long an `auto` stage waits, in the cycle that opened or rebuilt its MR, for GitLab to finish
    /// computing mergeability before merging (GitLab checks asynchronously); then the next cycle merges.
    public var mergeabilityWait: Duration
    /// How often the MR is read again while waiting.
    public var mergeabilityPoll: Duration
    /// Read every stage's history every cycle, even with nothing to promote, so reports carry its recent
    /// changes (the status page of `promobot serve`). Local git only: no request to GitLab.
    public var readsStageHistory = false
    /// How long an automatic rollback waits between the two failing health samples that confirm a
    /// failure (a single flaky probe never rolls a stage back).
    public var rollbackConfirmation: Duration
    /// The running promobot's version, written into the marker of every MR it opens or rebuilds (the CLI
    /// sets it to `Promobot.version`; nil leaves it out, as in tests that build an engine directly).
    public var promobotVersion: String?

    public init(
        authorName: String = "promobot", authorEmail: String = "promobot@localhost", gitlabURL: URL,
        gitCredentials: GitCredentials, dryRun: Bool = false, emergencyStop: String? = nil,
        historyHorizon: TimeInterval = 14 * 86_400, maxHistoryCommits: Int = 500, closeOrphans: Bool = true,
        concurrency: Int = 4, mergeabilityWait: Duration = .seconds(15), mergeabilityPoll: Duration = .seconds(1),
        rollbackConfirmation: Duration = .seconds(60)
    ) {
        self.rollbackConfirmation = rollbackConfirmation
        self.mergeabilityWait = mergeabilityWait
        self.mergeabilityPoll = mergeabilityPoll
        self.concurrency = max(1, concurrency)
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.gitlabURL = gitlabURL
        self.gitCredentials = gitCredentials
        self.dryRun = dryRun
        self.emergencyStop = emergencyStop
        self.historyHorizon = historyHorizon
        self.maxHistoryCommits = maxHistoryCommits
        self.closeOrphans = closeOrphans
    }
}
