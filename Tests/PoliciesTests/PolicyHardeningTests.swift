import Foundation
import Testing
import TestSupport
import LocalFiles
import Manifests
@testable import Policies

/// Regression tests for issue 8 (policy side): hostile or careless policy and config files never crash,
/// hang, exhaust memory or forge output; each refusal is a located diagnostic that names the limit.
@Suite struct PolicyHardeningTests {
    /// Parses `yaml` as `p.yaml` on a thread of its own, failing the test after `seconds`.
    static func parse(_ yaml: String, within seconds: Double = 5) -> (policy: Policy?, diagnostics: [Diagnostic])? {
        finishing(within: seconds) { PolicyParser.parse(yaml: yaml, path: "p.yaml") }
    }

    static func errors(_ yaml: String, within seconds: Double = 5) -> [String] {
        guard let result = parse(yaml, within: seconds) else {
            Issue.record("did not finish within \(seconds) s")
            return []
        }
        return result.diagnostics.filter(\.isError).map(\.formatted)
    }

    // MARK: - 1. Numbers out of range

    @Test(arguments: [
        ("    soak: 106751991167301d", "p.yaml:12:11: error: duration '106751991167301d' for 'soak' in stage 'test' is out of range (at most 365d, one year)"),
        ("    soak: 2562047788015216h", "p.yaml:12:11: error: duration '2562047788015216h' for 'soak' in stage 'test' is out of range (at most 365d, one year)"),
        ("    soak: 99999999999999999999999s", "p.yaml:12:11: error: duration '99999999999999999999999s' for 'soak' in stage 'test' is out of range (at most 365d, one year)"),
        ("    soak: 366d", "p.yaml:12:11: error: duration '366d' for 'soak' in stage 'test' is out of range (at most 365d, one year)"),
        ("    soak: 365d1s", "p.yaml:12:11: error: duration '365d1s' for 'soak' in stage 'test' is out of range (at most 365d, one year)"),
        ("    merge: approved\n    approvals: 99999999999999999999",
         "p.yaml:13:16: error: 'approvals' in stage 'test' is out of range, found '99999999999999999999': a whole number must lie between -9223372036854775808 and 9223372036854775807"),
    ])
    func numbersOutOfRangeAreLocatedErrors(lines: String, expected: String) {
        #expect(Self.errors(PolicyFixtures.withTestStage(lines)) == [expected])
    }

    @Test func settleOutOfRange() {
        let yaml = PolicyFixtures.base.replacingOccurrences(of: "    paths: [dev/]\n", with: """
                paths: [dev/]
                health:
                  - argocd: oms-dev
                    settle: 106751991167301d

            """)
        #expect(Self.errors(yaml) == [
            "p.yaml:12:17: error: duration '106751991167301d' for 'settle' in health check 1 of stage 'dev' is out of range (at most 365d, one year)",
        ])
    }

    @Test func prometheusBoundOutOfRange() {
        let yaml = PolicyFixtures.withTestStage("    health:\n      - prometheus: up\n        below: 1e999")
        #expect(Self.errors(yaml).first?.contains("'below' in health check 1 of stage 'test' is out of range, found '1e999'") == true)
    }

    @Test func configNumberOutOfRange() {
        let (config, diagnostics) = ConfigParser.parse(yaml: "concurrency: 99999999999999999999\n", path: "c.yaml", environment: [:])
        #expect(config == nil)
        #expect(diagnostics.map(\.formatted) == [
            "c.yaml:1:14: error: 'concurrency' in the config file is out of range, found '99999999999999999999': a whole number must lie between -9223372036854775808 and 9223372036854775807",
        ])
    }

    @Test(arguments: [("365d", 31_536_000), ("106751991167301d", nil), ("9223372036854775807s", nil), ("1d", 86_400)] as [(String, Int?)])
    func durationParsingNeverTraps(text: String, seconds: Int?) {
        #expect(PolicyDuration(parsing: text)?.seconds == seconds)
    }

    // MARK: - 2. Regular expressions

    @Test func deeplyNestedRegexIsRefusedBeforeCompiling() {
        let pattern = String(repeating: "[", count: 3_000)
        let errors = Self.errors(PolicyFixtures.withTestStage("    tags: '\(pattern)'"))
        #expect(errors.count == 1)
        #expect(errors.first?.hasPrefix("p.yaml:12:11: error: invalid regular expression '[[[[") == true)
        #expect(errors.first?.hasSuffix("for 'tags' in stage 'test': it is 3000 characters long; a tag pattern may be at most 256") == true)
    }

    @Test func nestingWithinTheLengthIsRefusedToo() {
        let pattern = String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40)
        #expect(Self.errors(PolicyFixtures.withTestStage("    tags: '\(pattern)'")) == [
            "p.yaml:12:11: error: invalid regular expression '\(pattern)' for 'tags' in stage 'test': groups '(' and classes '[' nest more than 16 levels deep",
        ])
    }

    @Test func megabyteRegexIsRefusedQuicklyAndNotEchoedWhole() throws {
        let pattern = String(repeating: "a", count: 1_000_000)
        let errors = Self.errors(PolicyFixtures.withTestStage("    tags: '\(pattern)'"), within: 10)
        let error = try #require(errors.first)
        #expect(error.count < 300, "the pattern is not echoed whole")
        #expect(error.hasSuffix("it is 1000000 characters long; a tag pattern may be at most 256"))
    }

    @Test(arguments: [#"^\d+\.\d+\.\d+$"#, #"^v?[0-9]+(\.[0-9]+){2}(-rc\.[0-9]+)?$"#, "[[a-z]]", #"^\d+(\.\d+){0,3}$"#,
                      #"^(?:v)?\d+[+*]?$"#, "^a{2,5}(b{3})*$", #"^([a-z]\{1,\})+$"#])
    func ordinaryPatternsStillPass(pattern: String) {
        #expect(PolicyParser.regexProblem(pattern) == nil)
    }

    /// `^(a+)+$` against `aaaaaaaaaaaaaaaa!` takes a second in Swift's engine and doubles per character;
    /// the planner matches tags of up to 128 characters with no time limit, so nested repetition is refused.
    @Test(arguments: [("^(a+)+$", "(a+)"), (#"^(\d+\.?)*$"#, #"(\d+\.?)"#), ("^((ab)*c)+$", "((ab)*c)"),
                      ("^(a{1,})*$", "(a{1,})"), (#"^v(\w+){2,}$"#, #"(\w+)"#), ("^(x*){1,50}$", "(x*)")])
    func nestedRepetitionIsRefused(pattern: String, group: String) {
        #expect(PolicyParser.nestedRepetition(pattern) == group)
        #expect(PolicyParser.regexProblem(pattern)?.hasPrefix("the group '\(group)' repeats something that itself repeats") == true)
    }

    // MARK: - 3. Aliases and nesting

    /// Nine levels of ten aliases each, the last used as a mapping key: 10^9 nodes once expanded.
    static func aliasBomb(prefix: String = "") -> String {
        var yaml = prefix + "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let items = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(items)]\n"
        }
        return yaml + "? *a9\n: boom\n"
    }

    @Test func aliasBombIsRefusedWithTheLimit() throws {
        let result = try #require(Self.parse(Self.aliasBomb(), within: 5), "an alias bomb must not hang the parser")
        #expect(result.diagnostics.map(\.formatted) == [
            "p.yaml:6:10: error: the file holds more than 200000 YAML values once its aliases are expanded (the limit for a policy file); split it or write fewer aliases",
        ])
    }

    @Test func aliasBombInTheConfigIsRefused() throws {
        let result = try #require(finishing(within: 5) {
            ConfigParser.parse(yaml: Self.aliasBomb(), path: "promobot.yaml", environment: [:])
        })
        #expect(result.config == nil)
        #expect(result.diagnostics.map(\.formatted) == [
            "promobot.yaml:6:10: error: the file holds more than 200000 YAML values once its aliases are expanded (the limit for the config file); split it or write fewer aliases",
        ])
    }

    @Test func tooManyAliases() {
        let yaml = "a: &a x\nb: [" + Array(repeating: "*a", count: 1_001).joined(separator: ", ") + "]\n"
        let errors = Self.errors(yaml)
        #expect(errors.count == 1)
        #expect(errors.first?.hasSuffix("error: too many aliases: a policy file may use at most 1000 aliases ('*name'); write the values out instead") == true)
    }

    @Test func aFewAliasesStillWork() throws {
        let yaml = PolicyFixtures.base
            .replacingOccurrences(of: "    paths: [dev/]\n", with: "    paths: [dev/]\n    labels: &team [oms, backend]\n")
            .replacingOccurrences(of: "    paths: [test/]\n", with: "    paths: [test/]\n    labels: *team\n")
        let result = try #require(Self.parse(yaml))
        #expect(result.diagnostics.filter(\.isError).isEmpty, "\(result.diagnostics.map(\.formatted))")
        #expect(result.policy?.stages[1].labels == ["oms", "backend"])
    }

    @Test func aliasChainsCountTheirDepth() {
        // Each anchor wraps the previous one: 100 levels deep once expanded, though the text nests two.
        var yaml = "a0: &a0 [x]\n"
        for level in 1...100 { yaml += "a\(level): &a\(level) [*a\(level - 1)]\n" }
        let errors = Self.errors(yaml)
        #expect(errors == ["p.yaml:64:12: error: lists and mappings nest more than 64 levels deep here (counting what aliases repeat): a policy file may nest at most 64 levels"])
    }

    @Test func deepNestingHasAMessageInOurWords() {
        let errors = Self.errors("a: " + String(repeating: "[", count: 2_000) + String(repeating: "]", count: 2_000) + "\n")
        #expect(errors == ["p.yaml:1:5: error: lists and mappings nest more than 64 levels deep here (counting what aliases repeat): a policy file may nest at most 64 levels"])
        #expect(!errors.joined().contains("yaml_set_max_nest_level"))
    }

    // MARK: - 4. Size of a policy

    @Test func tenThousandStagesAreRefusedQuickly() throws {
        var yaml = PolicyFixtures.top + "\n"
        for index in 0..<10_000 { yaml += "  - name: s\(index)\n    from: x\(index)\n    paths: [p\(index)/]\n" }
        let clock = ContinuousClock()
        var result: (policy: Policy?, diagnostics: [Diagnostic])?
        let elapsed = clock.measure { result = Self.parse(yaml, within: 20) }
        let diagnostics = try #require(result).diagnostics
        #expect(diagnostics.map(\.formatted) == [
            "p.yaml:8:3: error: 'stages' in policy 'oms' lists 10000 stages; a policy may have at most 100: split it into several policies",
        ])
        #expect(elapsed < .seconds(5))
    }

    @Test func tooManyImages() {
        let images = (0...200).map { "  - registry.example.com/oms/app\($0)" }.joined(separator: "\n")
        let yaml = PolicyFixtures.base.replacingOccurrences(of: "  - registry.example.com/oms/app", with: images)
        #expect(Self.errors(yaml) == [
            "p.yaml:6:3: error: 'images' in policy 'oms' lists 201 images; a policy may have at most 200: split it into several policies",
        ])
    }

    @Test func overlapCheckIsNotQuadratic() throws {
        // 99 stages of 300 paths in one repository: about 30,000 paths, 4.4e8 pairs for a pairwise check.
        var yaml = PolicyFixtures.top + "\n"
        for stage in 0..<99 {
            let paths = (0..<300).map { "s\(stage)/p\($0)" }.joined(separator: ", ")
            yaml += "  - name: s\(stage)\n    paths: [\(paths)]\n"
        }
        yaml += "  - name: last\n    paths: [s7/p3/deeper, s8]\n"
        let clock = ContinuousClock()
        var result: (policy: Policy?, diagnostics: [Diagnostic])?
        let elapsed = clock.measure { result = Self.parse(yaml, within: 30) }
        let errors = try #require(result).diagnostics.filter(\.isError).map(\.message)
        #expect(errors == [
            "path 's7/p3/deeper' of stage 'last' overlaps path 's7/p3' of stage 's7' in group/oms-deploy (branch master): stages must not share files",
            "path 's8' of stage 'last' overlaps path 's8/p0' of stage 's8' in group/oms-deploy (branch master): stages must not share files",
        ])
        #expect(elapsed < .seconds(10))
    }

    /// The sweep agrees with the pairwise definition on random small path sets (first overlap per path).
    @Test func overlapSweepMatchesThePairwiseCheck() {
        var rng = SeededGenerator(seed: 0x5EED_0008)
        let parts = ["a", "b", "c", ".", ""]
        for _ in 0..<500 {
            let stages: [(repository: String, branch: String, paths: [String])] = (0..<Int(rng.next() % 6)).map { _ in
                let paths = (0..<Int(rng.next() % 4)).map { _ in
                    (0..<Int(rng.next() % 4)).map { _ in parts[Int(rng.next() % 5)] }.joined(separator: "/")
                }
                return (rng.next() % 4 == 0 ? "" : "g/p\(rng.next() % 2)", "main", paths)
            }
            var expected: [PathOverlaps.Overlap] = []
            for (i, later) in stages.enumerated() where !later.repository.isEmpty {
                for (k, laterPath) in later.paths.enumerated() {
                    let a = PolicyParser.components(of: laterPath)
                    search: for (j, earlier) in stages[..<i].enumerated()
                    where earlier.repository == later.repository && earlier.branch == later.branch {
                        for (m, earlierPath) in earlier.paths.enumerated() {
                            let b = PolicyParser.components(of: earlierPath)
                            if a.starts(with: b) || b.starts(with: a) {
                                expected.append(.init(stage: i, path: k, earlierStage: j, earlierPath: m))
                                break search
                            }
                        }
                    }
                }
            }
            #expect(PathOverlaps.find(stages) == expected, "\(stages)")
        }
    }

    // MARK: - 5. File size and reading

    @Test func oversizedPolicyIsRefusedBeforeReading() throws {
        let folder = try PolicyFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("big.yaml")
        let line = "# " + String(repeating: "x", count: 1_000) + "\n"
        try String(repeating: line, count: 3_000).write(to: file, atomically: true, encoding: .utf8)
        let set = PolicyLoader.load(paths: [file.path])
        #expect(set.diagnostics.map(\.formatted) == [
            "\(file.path): error: cannot read the file: it is 2.9 MB, larger than the limit of 2 MB (2097152 bytes) for policy and config files",
        ])
    }

    @Test func oversizedTextIsRefusedByTheParserToo() {
        let yaml = PolicyFixtures.base + String(repeating: "#" + String(repeating: " ", count: 1_023) + "\n", count: 2_100)
        #expect(Self.errors(yaml) == ["p.yaml: error: the file is 2.1 MB: a policy file may be at most 2 MB (2097152 bytes)"])
    }

    @Test func unreadableFilesSayWhy() throws {
        let folder = try PolicyFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("pipe.yaml").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let set = PolicyLoader.load(paths: [fifo])
        #expect(set.diagnostics.map(\.message) == ["cannot read the file: it is a named pipe (FIFO), not a regular file"])
        #expect(SourceFile.read(folder.path) == .failure(.notARegularFile(kind: "a folder")))
        #expect(SourceFile.read(folder.path + "/none.yaml") == .failure(.notFound))
        #expect(SourceFile.Problem.permissionDenied.description == "cannot read the file: permission denied (check its mode and owner)")
        let latin1 = folder.appendingPathComponent("latin1.yaml")
        try Data([0x6E, 0x61, 0x6D, 0x65, 0x3A, 0x20, 0xE9, 0x0A]).write(to: latin1)
        #expect(SourceFile.read(latin1.path) == .failure(.notUTF8))
    }

    @Test func configFileThroughTheSameReader() throws {
        let folder = try PolicyFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (config, diagnostics) = ConfigParser.load(path: folder.path, environment: [:])
        #expect(config == nil)
        #expect(diagnostics.map(\.formatted) == ["\(folder.path): error: cannot read the file: it is a folder, not a regular file"])
    }

    // MARK: - 7. Messages in our words

    @Test(arguments: [
        ("double-quoted regex", PolicyFixtures.withTestStage(#"    tags: "^\d+""#),
         #"p.yaml:12:13: error: invalid YAML: unknown escape sequence in a double-quoted string (while parsing a quoted scalar at line 12, column 11): inside double quotes a backslash starts an escape; write values with backslashes, such as regular expressions, in single quotes (tags: '^\d+$')"#),
        ("undefined alias", PolicyFixtures.withTestStage("    labels: *team"),
         "p.yaml:12:13: error: alias '*team' refers to no anchor: define '&team' on a value before the first '*team'"),
        ("second document", PolicyFixtures.base + "---\nversion: 1\n",
         "p.yaml:12:1: error: a second YAML document starts here: a policy file holds exactly one document (remove this '---' and what follows, or move it to its own file)"),
        ("NUL byte", PolicyFixtures.withTestStage("    labels: [a\u{0}b]"),
         "p.yaml:12:15: error: the file contains the control character U+0000 (NUL) here: YAML files must be text; remove it or write it as an escape in a double-quoted string"),
        ("raw ESC", PolicyFixtures.withTestStage("    labels: [a\u{1B}[31mb]"),
         "p.yaml:12:15: error: the file contains the control character U+001B (ESC) here: YAML files must be text; remove it or write it as an escape in a double-quoted string"),
        ("lower-case utc", PolicyFixtures.withTestStage("    timezone: utc"),
         "p.yaml:12:15: error: unknown time zone 'utc' in stage 'test': use an IANA name like 'Europe/Berlin' or 'UTC' (did you mean 'UTC' or 'Etc/UTC'? time zone names are case-sensitive)"),
        ("wrong case", PolicyFixtures.withTestStage("    timezone: europe/berlin"),
         "p.yaml:12:15: error: unknown time zone 'europe/berlin' in stage 'test': use an IANA name like 'Europe/Berlin' or 'UTC' (did you mean 'Europe/Berlin'? time zone names are case-sensitive)"),
    ] as [(String, String, String)])
    func messagesSayWhatToDo(kind: String, yaml: String, expected: String) {
        let errors = Self.errors(yaml)
        #expect(errors == [expected], "\(kind): \(errors.map(EchoText.escapingControls))")
    }

    @Test func configSecondDocumentNamesTheConfigFile() {
        let (_, diagnostics) = ConfigParser.parse(yaml: "concurrency: 2\n---\nconcurrency: 3\n", path: "c.yaml", environment: [:])
        #expect(diagnostics.map(\.formatted) == [
            "c.yaml:2:1: error: a second YAML document starts here: the config file holds exactly one document (remove this '---' and what follows, or move it to its own file)",
        ])
    }

    // MARK: - 6. Echoed values cannot forge lines

    static let forged = "x\nfake.yaml:1:1: error: forged\u{1B}[31m\r\u{85}\u{2028}"

    @Test func hostileValuesStayOnTheirLineInEveryFormat() throws {
        let yaml = PolicyFixtures.base
            .replacingOccurrences(of: "name: test", with: "name: \"\(Self.escapedForYAML(Self.forged))\"")
            .replacingOccurrences(of: "[test/]", with: "[\"/\(Self.escapedForYAML(Self.forged))\"]")
        let set = PolicyLoader.check(sources: [("policies/\u{1B}[2Jp\n.yaml", yaml)])
        let diagnostics = set.diagnostics
        #expect(diagnostics.count >= 2)

        let text = DiagnosticReport.text(diagnostics, policyCount: set.policies.count)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == diagnostics.count + 1, "one line per diagnostic plus the summary")
        #expect(lines.last == Substring(DiagnosticReport.summary(diagnostics, policyCount: 0)))
        #expect(!text.unicodeScalars.contains { $0 != "\n" && Self.isControl($0) })
        #expect(!lines.contains { $0.hasPrefix("fake.yaml") })
        #expect(text.contains(#"\nfake.yaml:1:1: error: forged\e[31m\r\u{85}\u{2028}"#))

        let json = try #require(try JSONSerialization.jsonObject(with: Data(DiagnosticReport.json(diagnostics).utf8)) as? [[String: Any]])
        #expect(json.count == diagnostics.count)
        #expect(json.contains { ($0["message"] as? String)?.contains(Self.forged) == true }, "JSON keeps the raw value, escaped by the encoder")
        let quality = try #require(try JSONSerialization.jsonObject(with: Data(DiagnosticReport.codeQuality(diagnostics).utf8)) as? [[String: Any]])
        #expect(quality.count == diagnostics.count)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// `text` as the inside of a YAML double-quoted scalar.
    static func escapedForYAML(_ text: String) -> String {
        text.unicodeScalars.map { scalar in
            Self.isControl(scalar) ? "\\u" + String(format: "%04X", scalar.value) : String(scalar)
        }.joined()
    }
}

extension PolicyHardeningTests {
    /// 90,000 unknown keys: the first 1,000 are reported and worded, the rest counted in one note, quickly.
    @Test func problemsPerFileAreCapped() throws {
        let yaml = PolicyFixtures.withTestStage((0..<90_000).map { "    k\($0): v" }.joined(separator: "\n"))
        let clock = ContinuousClock()
        var result: (policy: Policy?, diagnostics: [Diagnostic])?
        let elapsed = clock.measure { result = Self.parse(yaml, within: 30) }
        let diagnostics = try #require(result).diagnostics
        #expect(diagnostics.count == 1_001)
        #expect(diagnostics.first?.formatted == "p.yaml: error: 89000 more problems not shown: only the first 1000 of a file are reported; fix those and run again")
        #expect(diagnostics[1].formatted == "p.yaml:12:5: error: unknown key 'k0' in stage 'test'")
        #expect(elapsed < .seconds(8))
    }
}

extension PolicyHardeningTests {
    /// A stage name of 1 MB is in every message about its stage: it is shortened there, so 900 problems in
    /// that stage cannot turn a 2 MB file into gigabytes of output.
    @Test func hugeValuesAreNotMultipliedIntoEveryMessage() throws {
        let name = String(repeating: "n", count: 1_000_000)
        let keys = (0..<900).map { "    k\($0): v" }.joined(separator: "\n")
        let yaml = PolicyFixtures.base.replacingOccurrences(of: "name: test", with: "name: \(name)") + keys + "\n"
        let diagnostics = try #require(Self.parse(yaml, within: 20)).diagnostics
        #expect(diagnostics.count == 901)
        let total = diagnostics.reduce(0) { $0 + $1.message.utf8.count }
        #expect(total < 2_000_000, "\(total) bytes of messages")
        #expect(diagnostics.last?.message.hasPrefix("unknown key 'k899' in stage '" + String(repeating: "n", count: 80) + "...'") == true)
    }
}
