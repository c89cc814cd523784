import Foundation
import Testing
@testable import Policies

@Suite struct PolicyParserTests {
    @Test func parsesTheSpecExampleWithDefaultsResolved() throws {
        let yaml = """
            version: 1
            name: oms
            repository: group/oms-deploy
            branch: master
            images:
              - registry.example.com/oms/app
              - registry.example.com/oms/web
            stages:
              - name: dev
                paths: [dev/]
                health:
                  - argocd: oms-dev
                    settle: 2m
                  - http: https://oms-dev.example.com/healthz
                    status: 200
                  - prometheus: 'sum(rate(http_errors_total{env="dev"}[5m]))'
                    below: 0.5
              - name: test
                from: dev
                paths: [test/]
                soak: 30m
                merge: auto
              - name: prod
                repository: group/oms-prod
                branch: main
                paths: [apps/oms/]
                soak: 24h
                merge: approved
                approvals: 2
                timezone: Asia/Shanghai
                windows:
                  - days: [mon, tue, wed, thu]
                    hours: "10:00-16:00"
                freeze:
                  - from: 2026-12-20
                    until: 2027-01-04
                    reason: year-end freeze
                tags: '^\\d+\\.\\d+\\.\\d+$'
                downgrade: false
                pick: newest-soaked
                labels: [prod]
                reviewers: [alice, '@bob']
                assignees: [carol]
            """
        let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: "policies/oms.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        let parsed = try #require(policy)
        #expect(parsed.name == "oms")
        #expect(parsed.sourcePath == "policies/oms.yaml")
        #expect(parsed.images == ["registry.example.com/oms/app", "registry.example.com/oms/web"])
        #expect(parsed.stages.map(\.name) == ["dev", "test", "prod"])
        #expect(parsed.stages.map(\.from) == [nil, "dev", "test"])

        let dev = parsed.stages[0]
        #expect(dev.repository == "group/oms-deploy" && dev.branch == "master" && dev.paths == ["dev/"])
        #expect(dev.health == [
            .argocd(application: "oms-dev", settle: PolicyDuration(seconds: 120)),
            .http(url: "https://oms-dev.example.com/healthz", status: 200),
            .prometheus(query: #"sum(rate(http_errors_total{env="dev"}[5m]))"#, below: 0.5, above: nil),
        ])
        #expect(dev.merge == .manual && dev.approvals == 0 && dev.timezone == "UTC")

        let test = parsed.stages[1]
        #expect(test.soak == PolicyDuration(seconds: 1_800) && test.merge == .auto)

        let prod = parsed.stages[2]
        #expect(prod.repository == "group/oms-prod" && prod.branch == "main" && prod.paths == ["apps/oms/"])
        #expect(prod.soak == PolicyDuration(seconds: 86_400))
        #expect(prod.merge == .approved && prod.approvals == 2 && prod.timezone == "Asia/Shanghai")
        #expect(prod.windows == [MergeWindow(days: [.mon, .tue, .wed, .thu], startMinute: 600, endMinute: 960)])
        #expect(prod.freezes == [Freeze(from: LocalDate(year: 2026, month: 12, day: 20),
                                        until: LocalDate(year: 2027, month: 1, day: 4), reason: "year-end freeze")])
        #expect(prod.tagPattern == #"^\d+\.\d+\.\d+$"#)
        #expect(prod.allowDowngrade == false && prod.pick == .newestSoaked)
        #expect(prod.labels == ["prod"] && prod.reviewers == ["alice", "bob"] && prod.assignees == ["carol"])
    }

    @Test func approvedWithoutApprovalsDefaultsToOne() throws {
        let (policy, diagnostics) = PolicyParser.parse(yaml: PolicyFixtures.withTestStage("    merge: approved"), path: "p.yaml")
        #expect(diagnostics.isEmpty)
        #expect(try #require(policy).stages[1].approvals == 1)
    }

    @Test func midnightWindowAndDefaultDays() throws {
        let yaml = PolicyFixtures.withTestStage("""
                windows:
                  - hours: 22:00-02:00
                  - days: [Sat]
                    hours: "00:00-24:00"
            """)
        let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: "p.yaml")
        #expect(diagnostics.isEmpty, "\(diagnostics.map(\.formatted))")
        #expect(try #require(policy).stages[1].windows == [
            MergeWindow(days: Set(Weekday.allCases), startMinute: 1_320, endMinute: 120),
            MergeWindow(days: [.sat], startMinute: 0, endMinute: 1_440),
        ])
    }

    struct ErrorRow: Sendable, CustomTestStringConvertible {
        var kind: String
        var yaml: String
        var expected: String
        var testDescription: String { kind }
    }

    static let errorRows: [ErrorRow] = [
        ErrorRow(kind: "unknown stage key", yaml: PolicyFixtures.withTestStage("    soka: 30m"),
                 expected: "p.yaml:12:5: error: unknown key 'soka' in stage 'test' (did you mean 'soak'?)"),
        ErrorRow(kind: "unknown top-level key", yaml: PolicyFixtures.base + "imagse: []\n",
                 expected: "p.yaml:12:1: error: unknown key 'imagse' in policy 'oms' (did you mean 'images'?)"),
        ErrorRow(kind: "wrong type (integer)", yaml: PolicyFixtures.withTestStage("    merge: approved\n    approvals: two"),
                 expected: "p.yaml:13:16: error: 'approvals' in stage 'test' must be a whole number, found 'two'"),
        ErrorRow(kind: "wrong type (list)", yaml: PolicyFixtures.withTestStage("    labels: prod"),
                 expected: "p.yaml:12:13: error: 'labels' in stage 'test' must be a list, found 'prod'"),
        ErrorRow(kind: "wrong type (bool)", yaml: PolicyFixtures.withTestStage("    downgrade: maybe"),
                 expected: "p.yaml:12:16: error: 'downgrade' in stage 'test' must be true or false, found 'maybe'"),
        ErrorRow(kind: "missing required key", yaml: PolicyFixtures.base.replacingOccurrences(of: "    paths: [test/]\n", with: "    soak: 1h\n"),
                 expected: "p.yaml:10:5: error: missing required key 'paths' in stage 'test'"),
        ErrorRow(kind: "missing top-level key", yaml: "version: 1\nname: oms\nrepository: g/p\nbranch: main\nstages:\n  - name: dev\n    paths: [dev/]\n",
                 expected: "p.yaml:1:1: error: missing required key 'images' in policy 'oms'"),
        ErrorRow(kind: "bad policy name", yaml: PolicyFixtures.base.replacingOccurrences(of: "name: oms", with: "name: Oms_1"),
                 expected: "p.yaml:2:7: error: invalid policy name 'Oms_1': use 1-63 lowercase letters, digits and '-', not starting or ending with '-'"),
        ErrorRow(kind: "bad stage name", yaml: PolicyFixtures.base.replacingOccurrences(of: "name: test", with: "name: '-test'"),
                 expected: "p.yaml:10:11: error: invalid stage name '-test': use 1-63 lowercase letters, digits and '-', not starting or ending with '-'"),
        ErrorRow(kind: "duplicate stage", yaml: PolicyFixtures.withTestStage("  - name: dev\n    paths: [other/]"),
                 expected: "p.yaml:12:11: error: duplicate stage name 'dev' in policy 'oms' (first defined at line 8)"),
        ErrorRow(kind: "from unknown", yaml: PolicyFixtures.withTestStage("    from: dve"),
                 expected: "p.yaml:12:11: error: stage 'test' promotes from unknown stage 'dve' (did you mean 'dev'?)"),
        ErrorRow(kind: "from later stage", yaml: PolicyFixtures.base.replacingOccurrences(of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    from: test\n"),
                 expected: "p.yaml:10:11: error: stage 'dev' cannot promote from 'test', which comes later: list stages upstream first (no cycles)"),
        ErrorRow(kind: "from itself", yaml: PolicyFixtures.withTestStage("    from: test"),
                 expected: "p.yaml:12:11: error: stage 'test' cannot promote from itself: 'from' must name an earlier stage"),
        ErrorRow(kind: "absolute path", yaml: PolicyFixtures.base.replacingOccurrences(of: "[test/]", with: "[/test]"),
                 expected: "p.yaml:11:13: error: path '/test' in stage 'test' must be relative to the repository root (remove the leading '/')"),
        ErrorRow(kind: "path with ..", yaml: PolicyFixtures.base.replacingOccurrences(of: "[test/]", with: "[test/../prod]"),
                 expected: "p.yaml:11:13: error: path 'test/../prod' in stage 'test' must not contain '..'"),
        ErrorRow(kind: "overlapping paths", yaml: PolicyFixtures.base.replacingOccurrences(of: "[test/]", with: "[dev/app]"),
                 expected: "p.yaml:11:13: error: path 'dev/app' of stage 'test' overlaps path 'dev/' of stage 'dev' in group/oms-deploy (branch master): stages must not share files"),
        ErrorRow(kind: "bad duration", yaml: PolicyFixtures.withTestStage("    soak: 30 minutes"),
                 expected: "p.yaml:12:11: error: invalid duration '30 minutes' for 'soak' in stage 'test': use a number and a unit (d, h, m, s), e.g. 30m, 2h, 1d or 1h30m"),
        ErrorRow(kind: "duration without unit", yaml: PolicyFixtures.withTestStage("    soak: 30"),
                 expected: "p.yaml:12:11: error: invalid duration '30' for 'soak' in stage 'test': use a number and a unit (d, h, m, s), e.g. 30m, 2h, 1d or 1h30m"),
        ErrorRow(kind: "bad hours", yaml: PolicyFixtures.withTestStage("    windows:\n      - hours: 9-17"),
                 expected: "p.yaml:13:16: error: invalid hours '9-17' in window 1 of stage 'test': use HH:MM-HH:MM on a 24-hour clock, e.g. \"10:00-16:00\" or \"22:00-02:00\""),
        ErrorRow(kind: "bad day", yaml: PolicyFixtures.withTestStage("    windows:\n      - days: [mon, thurs]\n        hours: \"10:00-16:00\""),
                 expected: "p.yaml:13:21: error: unknown day 'thurs' in window 1 of stage 'test': use mon, tue, wed, thu, fri, sat, sun (did you mean 'thu'?)"),
        ErrorRow(kind: "unknown time zone", yaml: PolicyFixtures.withTestStage("    timezone: Europe/Berln"),
                 expected: "p.yaml:12:15: error: unknown time zone 'Europe/Berln' in stage 'test': use an IANA name like 'Europe/Berlin' or 'UTC' (did you mean 'Europe/Berlin'?)"),
        ErrorRow(kind: "freeze until before from", yaml: PolicyFixtures.withTestStage("    freeze:\n      - from: 2026-12-20\n        until: 2026-12-01"),
                 expected: "p.yaml:14:16: error: freeze 1 of stage 'test' ends (2026-12-01) before it starts (2026-12-20)"),
        ErrorRow(kind: "bad date", yaml: PolicyFixtures.withTestStage("    freeze:\n      - from: 2027-02-29\n        until: 2027-03-01"),
                 expected: "p.yaml:13:15: error: invalid date '2027-02-29' for 'from' in freeze 1 of stage 'test': use YYYY-MM-DD (a real calendar day)"),
        ErrorRow(kind: "invalid regex", yaml: PolicyFixtures.withTestStage("    tags: '^(v\\d+$'"),
                 expected: "p.yaml:12:11: error: invalid regular expression '^(v\\d+$' for 'tags' in stage 'test': expected ')'"),
        ErrorRow(kind: "approvals without merge approved", yaml: PolicyFixtures.withTestStage("    merge: auto\n    approvals: 2"),
                 expected: "p.yaml:13:5: error: 'approvals' in stage 'test' needs 'merge: approved' (merge is 'auto')"),
        ErrorRow(kind: "approvals below 1", yaml: PolicyFixtures.withTestStage("    merge: approved\n    approvals: 0"),
                 expected: "p.yaml:13:16: error: 'approvals' in stage 'test' must be at least 1 with 'merge: approved' (use 'merge: auto' to merge without approvals)"),
        ErrorRow(kind: "bad merge mode", yaml: PolicyFixtures.withTestStage("    merge: approve"),
                 expected: "p.yaml:12:12: error: invalid merge mode 'approve' in stage 'test': use one of auto, approved, manual (did you mean 'approved'?)"),
        ErrorRow(kind: "unknown health check kind", yaml: PolicyFixtures.withTestStage("    health:\n      - argo: oms-test"),
                 expected: "p.yaml:13:9: error: unknown health check kind 'argo' in health check 1 of stage 'test': use 'argocd', 'http' or 'prometheus' (did you mean 'argocd'?)"),
        ErrorRow(kind: "invalid image", yaml: PolicyFixtures.base.replacingOccurrences(of: "oms/app", with: "oms/app:1.2.3"),
                 expected: "p.yaml:6:5: error: invalid image name 'registry.example.com/oms/app:1.2.3': it has a tag: list the image name only, promobot manages tags"),
        ErrorRow(kind: "duplicate image", yaml: PolicyFixtures.base.replacingOccurrences(of: "stages:", with: "  - registry.example.com/oms/app\nstages:"),
                 expected: "p.yaml:7:5: error: duplicate image 'registry.example.com/oms/app' (already listed at line 6)"),
        ErrorRow(kind: "version other than 1", yaml: PolicyFixtures.base.replacingOccurrences(of: "version: 1", with: "version: 2"),
                 expected: "p.yaml:1:10: error: unsupported policy version 2: this promobot understands version 1"),
        ErrorRow(kind: "empty images", yaml: "version: 1\nname: oms\nrepository: g/p\nbranch: main\nimages: []\nstages:\n  - name: dev\n    paths: [dev/]\n",
                 expected: "p.yaml:5:9: error: 'images' in policy 'oms' must not be empty"),
        ErrorRow(kind: "empty stages", yaml: PolicyFixtures.top + " []\n",
                 expected: "p.yaml:7:9: error: 'stages' in policy 'oms' must not be empty"),
        ErrorRow(kind: "empty paths", yaml: PolicyFixtures.base.replacingOccurrences(of: "[test/]", with: "[]"),
                 expected: "p.yaml:11:12: error: 'paths' in stage 'test' must not be empty"),
        ErrorRow(kind: "no repository anywhere", yaml: PolicyFixtures.base.replacingOccurrences(of: "repository: group/oms-deploy\n", with: "").replacingOccurrences(of: "  - name: test\n    paths: [test/]\n", with: ""),
                 expected: "p.yaml:7:5: error: stage 'dev' has no 'repository' and the policy sets no default: add 'repository: group/project' to the stage or the policy"),
        ErrorRow(kind: "bad repository", yaml: PolicyFixtures.base.replacingOccurrences(of: "group/oms-deploy", with: "https://gitlab.example.com/group/oms-deploy.git"),
                 expected: "p.yaml:3:13: error: invalid repository 'https://gitlab.example.com/group/oms-deploy.git': use a GitLab project path like 'group/project' (no URL, no '.git') or a numeric project id"),
        ErrorRow(kind: "syntax error", yaml: "version: 1\nname: oms\nimages: [a\nstages: []\n",
                 expected: "p.yaml:4:7: error: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 3, column 9)"),
        ErrorRow(kind: "duplicate key", yaml: PolicyFixtures.base + "name: other\n",
                 expected: "p.yaml:2:1: error: duplicate key 'name': a key may appear only once in the same mapping"),
    ]

    @Test(arguments: errorRows)
    func reportsEachErrorKindWithItsPosition(row: ErrorRow) {
        let (policy, diagnostics) = PolicyParser.parse(yaml: row.yaml, path: "p.yaml")
        #expect(policy == nil)
        #expect(diagnostics.filter(\.isError).map(\.formatted) == [row.expected])
    }

    @Test func reportsEveryProblemNotOnlyTheFirst() {
        let yaml = """
            version: 3
            name: oms
            images: [registry.example.com/oms/app, Foo//bar]
            stages:
              - name: dev
                paths: [/abs]
              - name: test
                paths: [test/]
                soka: 30m
                merge: sometimes
                timezone: Mars/Olympus
            """
        let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: "p.yaml")
        #expect(policy == nil)
        #expect(diagnostics.map { "\($0.line):\($0.column)" } == [
            "1:10", "3:40", "5:5", "5:5", "6:13", "7:5", "7:5", "9:5", "10:12", "11:15",
        ], "\(diagnostics.map(\.formatted))")
        #expect(diagnostics.allSatisfy { $0.isError })
        #expect(diagnostics.contains { $0.message.hasPrefix("invalid image name 'Foo//bar'") })
        #expect(diagnostics.contains { $0.message == "unknown time zone 'Mars/Olympus' in stage 'test': use an IANA name like 'Europe/Berlin' or 'UTC'" })
    }

    @Test func warnsAboutSettingsThatHaveNoEffect() throws {
        let yaml = PolicyFixtures.base
            .replacingOccurrences(of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    soak: 1h\n")
            .replacingOccurrences(of: "    paths: [test/]\n", with: "    paths: [test/]\n    health:\n      - http: http://127.0.0.1/\n")
        let (policy, diagnostics) = PolicyParser.parse(yaml: yaml, path: "p.yaml")
        #expect(policy != nil, "warnings do not make a policy invalid")
        #expect(diagnostics.map(\.formatted) == [
            "p.yaml:10:5: warning: 'soak' has no effect on the first stage 'dev': CI writes it and promobot never promotes into it",
            "p.yaml:13:5: warning: health checks on stage 'test' never run: they gate promotions out of a stage, and no stage promotes from it",
        ])
    }

    @Test func emptyFileIsAnError() {
        let (policy, diagnostics) = PolicyParser.parse(yaml: "# nothing\n", path: "p.yaml")
        #expect(policy == nil)
        #expect(diagnostics.map(\.formatted) == ["p.yaml:1:1: error: the file is empty: a policy needs 'version', 'name', 'images' and 'stages'"])
    }

    @Test(arguments: [
        ("ubuntu", nil),
        ("registry.example.com/oms/app", nil),
        ("registry.example.com:5000/a/b", nil),
        ("localhost/a__b/c-d.e", nil),
        ("a/b---c", nil),
        ("Foo//bar", "it has an empty path component ('//' or a leading or trailing '/')"),
        ("a:b:c", "it has a tag: list the image name only, promobot manages tags"),
        ("registry.example.com/OMS/app", "the repository path must be lowercase"),
        ("oms/app@sha256:0123", "it has a digest: list the image name only, promobot manages tags and digests"),
        ("registry.example.com/oms/app:1.0", "it has a tag: list the image name only, promobot manages tags"),
        ("a/-b", "path component '-b' must be lowercase letters and digits separated by '.', '_', '__' or '-'"),
        ("a/b..c", "path component 'b..c' must be lowercase letters and digits separated by '.', '_', '__' or '-'"),
        ("reg-.example.com/a", "registry host 'reg-.example.com' is not a valid host name"),
    ] as [(String, String?)])
    func imageNames(name: String, problem: String?) {
        #expect(ImageName.problem(in: name) == problem)
    }

    @Test(arguments: [
        ("soka", ["soak", "paths"], "soak"),
        ("Timezone", ["timezone"], "timezone"),
        ("monday", ["mon", "tue"], "mon"),
        ("xyz", ["soak", "paths"], nil),
        ("tset", ["dev", "test"], "test"),
    ] as [(String, [String], String?)])
    func suggestions(word: String, candidates: [String], expected: String?) {
        #expect(Suggestion.closest(to: word, in: candidates) == expected)
    }
}
