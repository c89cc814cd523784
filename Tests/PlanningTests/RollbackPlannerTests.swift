import Foundation
import Manifests
import Policies
import Testing
@testable import Planning

/// The way back: the states a stage ran, where `promobot rollback` takes it, how its MR is planned (no
/// promotion gate, no window, no freeze, no emergency stop), and how a rollback shapes the promotions
/// around it (the rollback gate, holds lifted by a request, pinned candidates). The engine's side is in
/// `EngineRollbackTests`.
@Suite struct RollbackPlannerTests {
    typealias F = Fixture

    static func sha(_ character: Character) -> String { String(repeating: character, count: 40) }

    /// A change of the test stage, `hoursAgo` before the fixture's clock.
    static func change(_ tags: ImageVersions, hoursAgo: Double, byPromotion: Bool = true, author: String = "promobot",
                       commit: Character) -> HistoryEntry {
        HistoryEntry(commit: sha(commit), time: F.now.addingTimeInterval(-hoursAgo * 3600), tags: tags, author: author,
                     subject: byPromotion ? "Promote oms to test" : "Change by hand", byPromotion: byPromotion)
    }

    static func change(_ version: String, hoursAgo: Double, byPromotion: Bool = true, author: String = "promobot",
                       commit: Character) -> HistoryEntry {
        change(F.tags(version), hoursAgo: hoursAgo, byPromotion: byPromotion, author: author, commit: commit)
    }

    /// test ran 1.4.0, then 1.4.2, then 1.5.0; after 1.5.0 came in (commit 2) a person changed something
    /// else under test/ (an image outside the policy, commit 3), and the bot re-rendered it (commit 4).
    static let history: [HistoryEntry] = {
        var unrelated = F.tags("1.5.0")
        unrelated["registry.example.com/other/sidecar"] = ImageVersion("9.9")
        return [
            Self.change(F.tags("1.5.0"), hoursAgo: 1, commit: "4"),
            Self.change(unrelated, hoursAgo: 3, byPromotion: false, author: "Dana Ops", commit: "3"),
            Self.change("1.5.0", hoursAgo: 5, commit: "2"),
            Self.change("1.4.2", hoursAgo: 48, commit: "1"),
            Self.change("1.4.0", hoursAgo: 96, commit: "0"),
        ]
    }()

    static let images = [F.app, F.web]

    // MARK: - States

    @Test func statesFoldChangesThatLeaveTheImagesAsTheyWere() {
        let states = Planner.states(history: Self.history, images: Self.images)
        #expect(states.map(\.tags) == [F.tags("1.5.0"), F.tags("1.4.2"), F.tags("1.4.0")])
        // The run of 1.5.0 is introduced by its oldest change, not by the later edits around it.
        #expect(states.map(\.introducedBy.commit) == [Self.sha("2"), Self.sha("1"), Self.sha("0")])
    }

    @Test func aStateRunAgainLaterIsAStateOfItsOwn() {
        let history = [Self.change("1.4.2", hoursAgo: 1, byPromotion: false, commit: "3"), Self.change("1.5.0", hoursAgo: 5, commit: "2"),
                       Self.change("1.4.2", hoursAgo: 48, commit: "1")]
        let states = Planner.states(history: history, images: Self.images)
        #expect(states.map(\.introducedBy.commit) == [Self.sha("3"), Self.sha("2"), Self.sha("1")])
        #expect(Planner.states(history: [], images: Self.images).isEmpty)
    }

    // MARK: - Where a rollback goes

    @Test func byDefaultTheStateBeforeTheCurrentOne() throws {
        let target = try Planner.rollbackTarget(stage: "test", current: F.tags("1.5.0"), history: Self.history,
                                                images: Self.images, to: nil).get()
        #expect(target.from == F.tags("1.5.0"))
        #expect(target.to.tags == F.tags("1.4.2"))
        #expect(target.to.introducedBy.commit == Self.sha("1"))
        #expect(target.introducedBy?.commit == Self.sha("2"))
    }

    @Test func aTipTheHistoryHasNotReachedGoesBackToTheNewestStateOfTheHistory() throws {
        let target = try Planner.rollbackTarget(stage: "test", current: F.tags("1.6.0"), history: Self.history,
                                                images: Self.images, to: nil).get()
        #expect(target.to.tags == F.tags("1.5.0"))
        #expect(target.introducedBy == nil)
    }

    @Test(arguments: ["1.4.0", " 1.4.0 "])
    func toATagTheStageRanBefore(_ tag: String) throws {
        let target = try Planner.rollbackTarget(stage: "test", current: F.tags("1.5.0"), history: Self.history,
                                                images: Self.images, to: tag).get()
        #expect(target.to.tags == F.tags("1.4.0"))
        #expect(target.to.introducedBy.commit == Self.sha("0"))
    }

    @Test func toADigestTheStageRanBefore() throws {
        let old = "sha256:" + String(repeating: "1", count: 64)
        let new = "sha256:" + String(repeating: "2", count: 64)
        let pinned: ImageVersions = [F.app: ImageVersion(tag: "1.4.2", digest: old), F.web: "1.4.2"]
        let history = [Self.change([F.app: ImageVersion(tag: "1.5.0", digest: new), F.web: "1.5.0"], hoursAgo: 1, commit: "2"),
                       Self.change(pinned, hoursAgo: 48, commit: "1")]
        let current: ImageVersions = [F.app: ImageVersion(tag: "1.5.0", digest: new), F.web: "1.5.0"]
        for text in [old, "1.4.2@sha256:111111111111", "1.4.2@" + old] {
            let target = try Planner.rollbackTarget(stage: "test", current: current, history: history, images: Self.images, to: text).get()
            #expect(target.to.tags == pinned, "\(text)")
        }
    }

    @Test func nothingEarlierIsRefused() {
        let once = [Self.change("1.5.0", hoursAgo: 5, commit: "2")]
        for history in [once, []] {
            let result = Planner.rollbackTarget(stage: "test", current: F.tags("1.5.0"), history: history, images: Self.images, to: nil)
            #expect(result == .failure(.nothingEarlier(stage: "test", current: "app 1.5.0, web 1.5.0")))
        }
        #expect(VersionRefusal.nothingEarlier(stage: "test", current: "app 1.5.0").description
                == "test ran nothing before app 1.5.0 in the history promobot reads: nothing to roll back to")
    }

    @Test func aVersionNotRunBeforeIsRefusedListingWhatRanNewestFirst() {
        let result = Planner.rollbackTarget(stage: "test", current: F.tags("1.5.0"), history: Self.history,
                                            images: Self.images, to: "1.3.0")
        let ran = ["app 1.5.0, web 1.5.0 (now)", "app 1.4.2, web 1.4.2 (from 11111111)", "app 1.4.0, web 1.4.0 (from 00000000)"]
        #expect(result == .failure(.notRunBefore(tag: "1.3.0", stage: "test", ran: ran)))
        guard case let .failure(refusal) = result else { return }
        #expect(refusal.description == "test did not run 1.3.0 before; it ran (newest first): " + ran.joined(separator: "; "))
    }

    @Test func aRefusalEchoesTheVersionAskedForEscaped() {
        let result = Planner.rollbackTarget(stage: "test", current: F.tags("1.5.0"), history: Self.history,
                                            images: Self.images, to: "9.9.9\nprod: rolled back\u{1B}[0m")
        guard case let .failure(refusal) = result else { Issue.record("expected a refusal, got \(result)"); return }
        #expect(refusal.description.hasPrefix("test did not run 9.9.9\\nprod: rolled back\\e[0m before;"), "\(refusal)")
        let promote = Planner.state(named: "2.0\r\nok", stage: "dev", current: F.tags("1.5.0"), history: [], images: Self.images)
        guard case let .failure(named) = promote else { Issue.record("expected a refusal, got \(promote)"); return }
        #expect(!named.description.contains { $0.isNewline }, "\(named)")
    }

    @Test func theCurrentVersionIsNoRollbackTarget() {
        let result = Planner.rollbackTarget(stage: "test", current: F.tags("1.5.0"), history: Self.history,
                                            images: Self.images, to: "1.5.0")
        guard case .failure(.notRunBefore) = result else { Issue.record("expected a refusal, got \(result)"); return }
    }

    // MARK: - What `promote --to` pins

    @Test func promoteToNamesTheNewestStateThatRanTheTag() {
        let mixed: ImageVersions = [F.app: "1.5.1", F.web: "1.5.0"]
        let history = [Self.change("1.6.0", hoursAgo: 1, commit: "6"), Self.change(mixed, hoursAgo: 5, commit: "5"),
                       Self.change("1.5.0", hoursAgo: 24, commit: "4"), Self.change("1.6.0", hoursAgo: 48, commit: "3")]
        func state(_ tag: String) -> Result<ImageVersions, VersionRefusal> {
            Planner.state(named: tag, stage: "dev", current: F.tags("1.6.0"), history: history, images: Self.images)
        }
        #expect(state("1.6.0") == .success(F.tags("1.6.0")))
        // One image ran it: the whole state is pinned, and the newest such state wins.
        #expect(state("1.5.1") == .success(mixed))
        #expect(state("1.5.0") == .success(mixed))
        // Listed newest first, each state once, the current one first.
        #expect(state("2.0.0") == .failure(.notRunBefore(tag: "2.0.0", stage: "dev",
                                                         ran: ["app 1.6.0, web 1.6.0", "app 1.5.1, web 1.5.0", "app 1.5.0, web 1.5.0"])))
    }

    // MARK: - The rollback MR

    static let record = RollbackRecord(from: F.tags("1.5.0"), reason: "checkout errors", requestedBy: "dana",
                                       introducedBy: sha("2"))

    /// The stage as `promobot rollback` observes it: it runs `current`, and its history is `history`.
    static func rollbackInput(stage: Stage = F.testStage(), current: String = "1.5.0", mergeRequest: BotMergeRequest? = nil,
                              emergencyStop: String? = nil) -> PlanInput {
        let snapshot = StageSnapshot(commit: F.targetTip, tags: F.tags(current))
        var input = PlanInput(policy: F.policy(test: stage), stage: stage, target: snapshot, upstream: snapshot, history: [],
                              historyHorizon: F.now.addingTimeInterval(-14 * 86_400), health: [], mergeRequest: mergeRequest,
                              now: F.now, emergencyStop: emergencyStop)
        input.targetHistory = history
        return input
    }

    /// The open rollback MR, exactly as the bot built it for 1.4.2 unless a case changes it.
    static func rollbackMR(markerCandidate: String = "1.4.2", status: String = "mergeable", approvalsGiven: Int = 0,
                           foreign: Bool = false, stageFilesChanged: Bool = false, headUnverified: String? = nil) -> BotMergeRequest {
        var mr = F.mergeRequest(candidate: markerCandidate, status: status, approvalsGiven: approvalsGiven, foreign: foreign,
                                stageFilesChanged: stageFilesChanged)
        mr.marker?.rollback = record
        mr.headUnverified = headUnverified
        return mr
    }

    static func rollbackStage(merge: MergeMode = .auto, approvals: Int = 0, stageMerge: MergeMode = .auto) -> Stage {
        var stage = F.testStage(merge: stageMerge)
        stage.rollback = RollbackSettings(merge: merge, approvals: approvals)
        return stage
    }

    static let frozenAndClosed: Stage = {
        var stage = F.testStage(windows: [MergeWindow(days: [.sat], startMinute: 600, endMinute: 660)],
                                freezes: [Freeze(from: .init(year: 2026, month: 11, day: 26), until: .init(year: 2026, month: 11, day: 28),
                                                 reason: "Black Friday")])
        stage.rollback = RollbackSettings()
        return stage
    }()

    @Test func withoutAnMRTheRollbackMRIsOpened() {
        let plan = Planner.planRollback(Self.rollbackInput(), record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .openMR)
        #expect(plan.rollback == Self.record)
        #expect(plan.current == F.tags("1.5.0"))
        #expect(plan.candidate == F.tags("1.4.2"))
        #expect(plan.upstreamCommit == Self.sha("2"))
        #expect(plan.gates.isEmpty)
        #expect(plan.summary == "open rollback MR: roll back app 1.5.0 -> 1.4.2, web 1.5.0 -> 1.4.2")
    }

    @Test func withoutAnMRAndNothingToChangeItIsUpToDate() {
        let plan = Planner.planRollback(Self.rollbackInput(current: "1.4.2"), record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .upToDate)
    }

    @Test func aPersonsCommitOnTheRollbackBranchIsLeftAloneNamingThatBranch() {
        let input = Self.rollbackInput(mergeRequest: Self.rollbackMR(foreign: true))
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .leaveAlone(iid: 12, reason: "someone other than promobot pushed to promobot/oms/test.rollback; "
                                                     + "the bot will not overwrite it (merge or close !12 by hand)"))
    }

    @Test func anUnverifiedHeadWaits() {
        let input = Self.rollbackInput(mergeRequest: Self.rollbackMR(headUnverified: "GitLab does not list dddddddd yet"))
        Expect.waiting(.foreignCommits, says: ["dddddddd"]).check(Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2")).decision)
    }

    @Test func aStageThatAlreadyRunsTheTargetClosesTheMR() {
        let input = Self.rollbackInput(current: "1.4.2", mergeRequest: Self.rollbackMR())
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .closeMR(iid: 12, reason: "test already runs app 1.4.2, web 1.4.2"))
    }

    @Test func anMRBuiltForAnotherTargetIsRebuilt() {
        let input = Self.rollbackInput(mergeRequest: Self.rollbackMR(markerCandidate: "1.4.0"))
        Expect.update(says: ["candidate changed: app 1.4.0 -> 1.4.2, web 1.4.0 -> 1.4.2"])
            .check(Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2")).decision)
    }

    @Test func changedStageFilesRebuildTheMR() {
        let input = Self.rollbackInput(mergeRequest: Self.rollbackMR(stageFilesChanged: true))
        Expect.update(says: ["test changed on main", "rebuilding on aaaaaaaa"])
            .check(Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2")).decision)
    }

    @Test func anAutoRollbackMergesWhenMergeable() {
        // The stage's own merge mode is manual: the rollback's applies.
        let input = Self.rollbackInput(stage: Self.rollbackStage(merge: .auto, stageMerge: .manual), mergeRequest: Self.rollbackMR())
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .mergeMR(iid: 12, sha: F.head, autoMerge: false))
        #expect(plan.gates.map(\.gate) == [.foreignCommits, .mergeability, .pipeline, .approvals])
    }

    @Test func anApprovedRollbackWaitsForItsApprovals() {
        let input = Self.rollbackInput(stage: Self.rollbackStage(merge: .approved, approvals: 1), mergeRequest: Self.rollbackMR())
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        Expect.waiting(.approvals, says: ["0 of 1 approvals"]).check(plan.decision)
        let approved = Self.rollbackInput(stage: Self.rollbackStage(merge: .approved, approvals: 1), mergeRequest: Self.rollbackMR(approvalsGiven: 1))
        #expect(Planner.planRollback(approved, record: Self.record, to: F.tags("1.4.2")).decision == .mergeMR(iid: 12, sha: F.head, autoMerge: false))
    }

    @Test func aManualRollbackWaitsForAPerson() {
        let input = Self.rollbackInput(stage: Self.rollbackStage(merge: .manual), mergeRequest: Self.rollbackMR())
        Expect.waiting(.approvals, says: ["merge is manual"]).check(Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2")).decision)
    }

    @Test func freezesWindowsAndTheEmergencyStopDoNotBlockARollback() {
        // The same stage stops a promotion MR from merging.
        let promotion = F.input(stage: Self.frozenAndClosed, mergeRequest: F.mergeRequest())
        Expect.waiting(.freeze, says: ["Black Friday"]).check(Planner.plan(promotion).decision)

        let input = Self.rollbackInput(stage: Self.frozenAndClosed, mergeRequest: Self.rollbackMR(), emergencyStop: "incident 42")
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .mergeMR(iid: 12, sha: F.head, autoMerge: false))
        #expect(!plan.gates.contains { [.freeze, .window, .emergencyStop].contains($0.gate) })
        let opened = Planner.planRollback(Self.rollbackInput(stage: Self.frozenAndClosed, emergencyStop: "incident 42"),
                                          record: Self.record, to: F.tags("1.4.2"))
        #expect(opened.decision == .openMR)
    }

    @Test func aCompanyWideFreezeBlocksAMergeAndNeverARollback() throws {
        let config = try #require(ConfigParser.parse(yaml: """
            freezes:
              - {from: 2026-11-26, until: 2026-11-28, reason: year-end, stages: [test]}
            """, path: "promobot.yaml", environment: [:]).config)
        let policy = try #require(PolicyParser.parse(yaml: """
            version: 1
            name: oms
            repository: group/oms-deploy
            branch: main
            images: [\(F.app), \(F.web)]
            stages:
              - {name: dev, paths: [dev]}
              - {name: test, paths: [test], merge: auto}
            """, path: "policies/oms.yaml", shared: config.shared).policy)
        let stage = try #require(policy.stage(named: "test"))
        let promotion = F.input(stage: stage, mergeRequest: F.mergeRequest())
        Expect.waiting(.freeze, says: ["by a company-wide freeze (promobot.yaml:2)", "year-end"]).check(Planner.plan(promotion).decision)

        let input = Self.rollbackInput(stage: stage, mergeRequest: Self.rollbackMR())
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        #expect(plan.decision == .mergeMR(iid: 12, sha: F.head, autoMerge: false))
    }

    @Test func theRollbackStageDropsWindowsAndFreezes() {
        let stage = Planner.rollbackStage(Self.frozenAndClosed)
        #expect(stage.windows.isEmpty && stage.freezes.isEmpty)
        #expect(stage.merge == .auto && stage.approvals == 0)
        #expect(stage.paths == Self.frozenAndClosed.paths && stage.branch == Self.frozenAndClosed.branch)
    }

    // MARK: - Promotions beside a rollback

    @Test func anOpenRollbackMRBlocksAPromotion() {
        var input = F.input()
        input.rollbackMergeRequest = 7
        Expect.blocked(.rollback, says: ["rollback !7 for test is open"]).check(Planner.plan(input).decision)
    }

    @Test func anOpenRollbackMRSupersedesThePromotionMR() {
        var input = F.input(mergeRequest: F.mergeRequest())
        input.rollbackMergeRequest = 7
        #expect(Planner.plan(input).decision == .closeMR(iid: 12, reason: "superseded by rollback !7"))
    }

    /// dev ran 1.4.2, then 1.5.0 for two days, and 1.6.0 since 10 minutes; test runs 1.4.2.
    static func pinnedInput(pinned: String?) -> PlanInput {
        var input = F.input(current: "1.4.2", candidate: "1.6.0", heldFor: F.minutes(10))
        input.history = [
            HistoryEntry(commit: F.upstreamTip, time: F.now.addingTimeInterval(-F.minutes(10)), tags: F.tags("1.6.0")),
            HistoryEntry(commit: sha("5"), time: F.now.addingTimeInterval(-2 * 86_400), tags: F.tags("1.5.0")),
            HistoryEntry(commit: sha("4"), time: F.now.addingTimeInterval(-5 * 86_400), tags: F.tags("1.4.2")),
        ]
        input.request = PromotionRequest(requestedBy: "dana", pinned: pinned.map(F.tags))
        return input
    }

    @Test func aPinnedRequestPicksTheOlderRunAndItsSoak() throws {
        Expect.blocked(.soak, says: ["1.6.0", "10m of 30m"]).check(Planner.plan(Self.pinnedInput(pinned: nil)).decision)

        let plan = Planner.plan(Self.pinnedInput(pinned: "1.5.0"))
        #expect(plan.decision == .openMR)
        #expect(plan.candidate == F.tags("1.5.0"))
        #expect(plan.upstreamCommit == Self.sha("5"))
        let soak = try #require(plan.gates.first { $0.gate == .soak })
        #expect(soak.passed, "\(soak.reason)")
        #expect(soak.reason.contains("from "), "\(soak.reason)")
    }

    @Test func aPinnedStateTheHistoryDoesNotShowHasNotSoaked() {
        Expect.blocked(.soak, says: ["1.5.5", "0s of 30m"]).check(Planner.plan(Self.pinnedInput(pinned: "1.5.5")).decision)
    }

    @Test func aRequestLiftsTheHoldNamingTheRequester() throws {
        var input = F.input(current: "1.4.2", candidate: "1.5.0")
        input.targetHistory = PlannerHoldTests.reverted
        input.request = PromotionRequest(requestedBy: "dana")
        let plan = Planner.plan(input)
        #expect(plan.decision == .openMR)
        #expect(plan.held.count == 2)
        let hold = try #require(plan.gates.first { $0.gate == .hold })
        #expect(hold.passed)
        #expect(hold.reason == "promotion requested by dana (lifts the hold on app 1.5.0, web 1.5.0)")

        // An open MR for the held version is kept and merged, not closed as "rolled back".
        input.mergeRequest = F.mergeRequest()
        #expect(Planner.plan(input).decision == .mergeMR(iid: 12, sha: F.head, autoMerge: false))
    }

    // MARK: - Automatic rollback

    static let hour = PolicyDuration(seconds: 3_600)

    @Test func aFreshPromotionByTheBotIsWatched() throws {
        let history = [Self.change("1.5.0", hoursAgo: 20.0 / 60, commit: "2"), Self.change("1.4.2", hoursAgo: 48, commit: "1")]
        let watched = try #require(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now))
        #expect(watched.promotion == history[0])
        #expect(watched.current == F.tags("1.5.0"))
        #expect(watched.previous.tags == F.tags("1.4.2"))
        #expect(watched.previous.introducedBy == history[1])
    }

    @Test func aPromotionOlderThanWithinIsNotWatched() {
        for secondsAgo in [3_600.0, 7_200] {
            let history = [Self.change("1.5.0", hoursAgo: secondsAgo / 3600, commit: "2"), Self.change("1.4.2", hoursAgo: 48, commit: "1")]
            #expect(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now) == nil, "\(secondsAgo)")
        }
        let justIn = [Self.change("1.5.0", hoursAgo: 3_599.0 / 3600, commit: "2"), Self.change("1.4.2", hoursAgo: 48, commit: "1")]
        #expect(Planner.watchedPromotion(history: justIn, images: Self.images, within: Self.hour, now: F.now) != nil)
    }

    @Test func aFastForwardedPromotionIsTimedByItsMerge() throws {
        // Built two hours ago, merged 20 minutes ago: the merge time counts.
        let history = [Self.change("1.5.0", hoursAgo: 2, commit: "2"), Self.change("1.4.2", hoursAgo: 48, commit: "1")]
        let mergedAt = F.now.addingTimeInterval(-F.minutes(20))
        #expect(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now) == nil)
        #expect(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now, mergedAt: mergedAt) != nil)
        let last = try #require(Planner.lastPromotion(history: history, images: Self.images))
        #expect(last.promotion.commit == Self.sha("2"))
        #expect(last.previous.tags == F.tags("1.4.2"))
    }

    @Test func aPersonsChangeOrARollbackEndsTheWatch() {
        let promotion = Self.change("1.5.0", hoursAgo: 0.5, commit: "2")
        let before = Self.change("1.4.2", hoursAgo: 48, commit: "1")
        let byHand = [Self.change("1.5.1", hoursAgo: 0.2, byPromotion: false, author: "Dana Ops", commit: "3"), promotion, before]
        let rolledBack = [Self.change("1.4.2", hoursAgo: 0.2, byPromotion: false, commit: "3"), promotion, before]
        let personPromoted = [Self.change("1.5.0", hoursAgo: 0.5, byPromotion: false, author: "Dana Ops", commit: "2"), before]
        for history in [byHand, rolledBack, personPromoted] {
            #expect(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now) == nil)
        }
    }

    @Test func anEditThatLeavesTheImagesAloneKeepsTheWatch() throws {
        var other = F.tags("1.5.0")
        other["registry.example.com/other/sidecar"] = ImageVersion("2")
        let history = [Self.change(other, hoursAgo: 0.2, byPromotion: false, author: "Dana Ops", commit: "3"),
                       Self.change("1.5.0", hoursAgo: 0.5, commit: "2"), Self.change("1.4.2", hoursAgo: 48, commit: "1")]
        let watched = try #require(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now))
        #expect(watched.promotion.commit == Self.sha("2"))
    }

    @Test func nothingBeforeThePromotionMeansNothingToWatch() {
        let first = [Self.change("1.5.0", hoursAgo: 0.5, commit: "2")]
        let fromNothing = [Self.change("1.5.0", hoursAgo: 0.5, commit: "2"), Self.change(ImageVersions(), hoursAgo: 48, commit: "1")]
        for history in [first, fromNothing, []] {
            #expect(Planner.watchedPromotion(history: history, images: Self.images, within: Self.hour, now: F.now) == nil)
        }
    }

    static func result(_ check: String, _ state: HealthState, _ detail: String = "") -> HealthResult {
        HealthResult(check: check, state: state, detail: detail, checkedAt: F.now)
    }

    @Test func aFailureIsConfirmedOnlyByTheSameCheckFailingTwice() {
        let first = [Self.result("argocd oms-test", .failed, "Degraded"), Self.result("http /health", .failed, "HTTP 503")]
        let second = [Self.result("argocd oms-test", .failed, "Degraded again"), Self.result("http /health", .passed, "HTTP 200")]
        #expect(Planner.confirmedFailure(first: first, second: second) == [Self.result("argocd oms-test", .failed, "Degraded again")])

        let a = "argocd oms-test", b = "http /health"
        #expect(Planner.confirmedFailure(first: [Self.result(a, .failed)], second: [Self.result(a, .unknown)]) == nil)
        #expect(Planner.confirmedFailure(first: [Self.result(a, .unknown)], second: [Self.result(a, .failed)]) == nil)
        #expect(Planner.confirmedFailure(first: [Self.result(a, .unknown)], second: [Self.result(a, .unknown)]) == nil)
        #expect(Planner.confirmedFailure(first: [Self.result(a, .failed)], second: [Self.result(b, .failed)]) == nil)
        #expect(Planner.confirmedFailure(first: [], second: []) == nil)
    }

    // MARK: - Commit and marker

    static let changes = [
        ImageChange(path: "test/deploy.yaml", line: 9, image: F.app, old: "1.5.0", new: "1.4.2"),
        ImageChange(path: "test/deploy.yaml", line: 19, image: F.web, old: "1.5.0", new: "1.4.2"),
    ]

    static func message(reason: String, requestedBy: String = "dana") -> String {
        let record = RollbackRecord(from: F.tags("1.5.0"), reason: reason, requestedBy: requestedBy, introducedBy: sha("2"))
        return MergeRequestText.rollbackCommitMessage(policy: F.policy(), stage: F.testStage(), record: record,
                                                      to: F.tags("1.4.2"), changes: changes)
    }

    @Test func theRollbackCommitIsRecognisedAsARollbackNotAPromotion() throws {
        let message = Self.message(reason: "checkout errors")
        #expect(message.hasPrefix("Roll back oms in test: app 1.5.0 -> 1.4.2, web 1.5.0 -> 1.4.2\n\nReason: checkout errors\n"))
        #expect(message.hasSuffix("\nPromobot-Rollback: \(Self.sha("2"))\nPromobot-Requested-By: dana\nPromobot-Rollback-Reason: checkout errors\n"))
        #expect(MergeRequestText.hasTrailers(message, policy: "oms", stage: "test"))
        #expect(!MergeRequestText.hasTrailers(message, policy: "oms", stage: "prod"))
        #expect(!MergeRequestText.isPromotion(message, policy: "oms", stage: "test"))
        let request = try #require(MergeRequestText.rollbackRequest(in: message))
        #expect(request.requestedBy == "dana")
        #expect(request.reason == "checkout errors")

        let promotion = MergeRequestText.commitMessage(policy: F.policy(), stage: F.testStage(), candidate: F.tags("1.5.0"),
                                                       changes: [], upstreamCommit: F.upstreamTip)
        #expect(MergeRequestText.isPromotion(promotion, policy: "oms", stage: "test"))
        #expect(MergeRequestText.rollbackRequest(in: promotion) == nil)
    }

    @Test(arguments: ["checkout errors\nsince 10:40", "checkout errors\r\nsince 10:40", "checkout errors\u{2028}since 10:40"])
    func aReasonOnSeveralLinesIsOneLineInTheTrailers(_ reason: String) throws {
        let message = Self.message(reason: reason + "\nPromobot-Rollback: forged", requestedBy: "dana\nPromobot-Requested-By: mallory")
        let request = try #require(MergeRequestText.rollbackRequest(in: message))
        #expect(request.reason == "checkout errors since 10:40 Promobot-Rollback: forged")
        #expect(request.requestedBy == "dana Promobot-Requested-By: mallory")
        #expect(message.contains("\nReason: checkout errors since 10:40 Promobot-Rollback: forged\n"))
        #expect(MergeRequestText.trailer(MergeRequestText.rollbackTrailer, in: message) == Self.sha("2"))
        #expect(!message.split(whereSeparator: \.isNewline).contains { $0.hasPrefix("since") })
    }

    @Test func aLongReasonIsCappedInTheTrailers() throws {
        let request = try #require(MergeRequestText.rollbackRequest(in: Self.message(reason: String(repeating: "x", count: 300))))
        #expect(request.reason.count == 200)
        #expect(request.reason.hasSuffix("…"))
    }

    @Test func anOldMarkerWithoutRequestOrRollbackStillDecodes() throws {
        let description = """
        Promotes **oms** from **dev** to **test**.

        <!-- promobot:marker {"base":"\(F.targetTip)","candidate":{"\(F.app)":"1.5.0","\(F.web)":"1.5.0"},"head":"\(F.head)","policy":"oms","stage":"test","upstreamCommit":"\(F.upstreamTip)"} -->
        """
        let marker = try #require(MergeRequestText.marker(in: description))
        #expect(marker == PromotionMarker(policy: "oms", stage: "test", candidate: F.tags("1.5.0"), base: F.targetTip,
                                          upstreamCommit: F.upstreamTip, head: F.head))
        #expect(marker.request == nil && marker.rollback == nil)
    }

    @Test func aMarkerKeepsTheRollbackAndTheRequest() throws {
        let record = RollbackRecord(from: F.tags("1.5.0"), reason: "errors --> <b>spiking</b>\nsince 10:40", requestedBy: "dana",
                                    automatic: true, introducedBy: nil)
        let marker = PromotionMarker(policy: "oms", stage: "test", candidate: F.tags("1.4.2"), base: F.targetTip,
                                     upstreamCommit: F.targetTip, head: F.head,
                                     request: PromotionRequest(requestedBy: "dana", pinned: F.tags("1.4.2")), rollback: record)
        let comment = MergeRequestText.markerComment(marker)
        #expect(!comment.dropLast(4).contains("-->"))
        #expect(MergeRequestText.marker(in: "text\n\n" + comment + "\n") == marker)
    }

    @Test func theRollbackDescriptionCarriesTheMarker() throws {
        let input = Self.rollbackInput()
        let plan = Planner.planRollback(input, record: Self.record, to: F.tags("1.4.2"))
        let description = MergeRequestText.rollbackDescription(plan: plan, input: input, links: MergeRequestLinks(), head: F.head,
                                                               changes: Self.changes)
        let marker = try #require(MergeRequestText.marker(in: description))
        #expect(marker.rollback == Self.record)
        #expect(marker.request == nil)
        #expect(marker.candidate == F.tags("1.4.2"))
        #expect(description.contains("- Reason: checkout errors"))
        #expect(description.contains("- Requested by: dana"))
    }
}
