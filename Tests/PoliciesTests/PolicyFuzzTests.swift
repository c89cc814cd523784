import Foundation
import Testing
import TestSupport
@testable import Policies

/// Mutated policies and configs (structural and byte-level mutations of the repository's policies, the
/// example config and the test fixtures) through the loader and every report format.
///
/// Invariants for every input: it finishes in bounded time (no crash, no hang); every diagnostic names the
/// file and has a position or is about the whole file (0:0), within the file's lines; a text report is
/// one line per diagnostic plus the summary, with no raw control character; JSON and Code Quality reports
/// parse and hold one entry per diagnostic; a policy is returned only for a file without errors.
///
/// CI runs `PROMOBOT_FUZZ_ROUNDS` rounds (default 300, a few seconds) from a random seed, printed first;
/// `PROMOBOT_FUZZ_SEED=<seed>` replays a run exactly.
@Suite struct PolicyFuzzTests {
    static let perInputSeconds = 5.0

    static func corpus() throws -> [(name: String, text: String, isConfig: Bool)] {
        let root = PolicyFixtures.repositoryRoot()
        var corpus: [(String, String, Bool)] = []
        for name in ["policies/oms.yaml", "policies/payments.yaml"] {
            corpus.append((name, try String(contentsOfFile: root + "/" + name, encoding: .utf8), false))
        }
        corpus.append(("promobot.yaml", try String(contentsOfFile: root + "/promobot.yaml", encoding: .utf8), true))
        corpus.append(("base.yaml", PolicyFixtures.base, false))
        corpus.append(("anchors.yaml", PolicyFixtures.withTestStage("    labels: &l [a, b]\n    reviewers: *l\n    tags: '^v\\d+$'"), false))
        corpus.append(("bomb.yaml", PolicyHardeningTests.aliasBomb(), false))
        // The complete example in docs/policies.md (the first yaml block).
        let docs = try String(contentsOfFile: root + "/docs/policies.md", encoding: .utf8)
        if let start = docs.range(of: "```yaml\n"), let end = docs.range(of: "```", range: start.upperBound..<docs.endIndex) {
            corpus.append(("docs-example.yaml", String(docs[start.upperBound..<end.lowerBound]), false))
        }
        return corpus
    }

    /// Fragments that reach the limits and the awkward corners of YAML and of the policy language.
    static let fragments = [
        "&a ", "*a", "? *a\n: x\n", "<<: *a\n", "[", "]", "{", "}", "---\n", "...\n", ": ", "- ", "\t", "\n", "\r\n",
        "\u{0}", "\u{1B}[31m", "\u{85}", "\u{2028}", "\u{FEFF}", "\"\\d\"", "'", "\"", "#", "!!binary ", "!custom ",
        "999999999999999999999", "106751991167301d", "2562047788015216h", "1e999", "-0", "0x1F", "~", "null",
        "tags: '" + String(repeating: "(", count: 300) + "'\n", "timezone: utc\n", "soak: 1m1h\n", "from: prod\n",
        "paths: [dev/]\n", "  - name: dev\n    paths: [dev/]\n", "fake.yaml:1:1: error: forged\n", "é", "😀",
    ]

    /// Double-quoted YAML whose value holds a newline, ESC, CR and NEL: what a forged diagnostic needs.
    static let hostileValues = [
        #""x\nfake.yaml:1:1: error: forged\e[31m""#, #""\r\u0085\u2028y""#, #""registry.example.com/a\tb\x1b[2J""#,
    ]

    @Test func mutatedPoliciesNeverCrashHangOrForgeOutput() throws {
        let rounds = environmentInt("PROMOBOT_FUZZ_ROUNDS", default: 300)
        var rng = SeededGenerator.fromEnvironment("PROMOBOT_FUZZ_SEED")
        let seed = rng.seed
        print("PolicyFuzzTests: \(rounds) rounds, seed \(seed) (replay with PROMOBOT_FUZZ_SEED=\(seed))")
        let corpus = try Self.corpus()
        let folder = try PolicyFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for round in 0..<rounds {
            let original = corpus[Int(rng.next() % UInt64(corpus.count))]
            var bytes = Array(original.text.utf8)
            for _ in 0...Int(rng.next() % 4) { Self.mutate(&bytes, rng: &rng, corpus: corpus) }
            let text = String(decoding: bytes, as: UTF8.self)
            let context = "round \(round) of seed \(seed), from \(original.name)"
            let path = round % 7 == 0 ? "policies/\u{1B}[1mx\ny.yaml" : "policies/fuzz.yaml"
            let isConfig = original.isConfig
            if round % 10 == 0, !isConfig {
                // Through the loader from disk: the raw bytes, invalid UTF-8 included.
                let file = folder.appendingPathComponent("r\(round).yaml")
                try Data(bytes).write(to: file)
                let loaded = finishing(within: Self.perInputSeconds) { PolicyLoader.load(paths: [file.path]) }
                guard let loaded else {
                    Issue.record("no result within \(Self.perInputSeconds) s: \(context) (loader)")
                    return
                }
                Self.checkInvariants(loaded.diagnostics, policyCount: loaded.policies.count, path: file.path,
                                     text: String(decoding: bytes, as: UTF8.self), context: context + " (loader)")
            }
            let result = finishing(within: Self.perInputSeconds) { () -> (diagnostics: [Diagnostic], policies: Int) in
                if isConfig { return (ConfigParser.parse(yaml: text, path: path, environment: [:]).diagnostics, 0) }
                let set = PolicyLoader.check(sources: [(path, text)])
                return (set.diagnostics, set.policies.count)
            }
            guard let result else {
                Issue.record("no result within \(Self.perInputSeconds) s: \(context)\n\(text.prefix(2_000))")
                return
            }
            Self.checkInvariants(result.diagnostics, policyCount: result.policies, path: path, text: text, context: context)
        }
    }

    static func checkInvariants(_ diagnostics: [Diagnostic], policyCount: Int, path: String, text: String, context: String) {
        // Every YAML 1.1 line break counts (libyaml also breaks lines at NEL and the Unicode separators).
        let lineCount = text.unicodeScalars.reduce(1) { $0 + (["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($1) ? 1 : 0) }
        for diagnostic in diagnostics {
            #expect(diagnostic.path == path, "\(context): \(diagnostic.formatted)")
            let wholeFile = diagnostic.line == 0 && diagnostic.column == 0
            let located = diagnostic.line >= 1 && diagnostic.column >= 1 && diagnostic.line <= lineCount + 1
            #expect(wholeFile || located, "\(context): \(diagnostic.formatted) (file has \(lineCount) lines)")
            #expect(!diagnostic.message.isEmpty, "\(context)")
        }
        if diagnostics.contains(where: \.isError) { #expect(policyCount == 0, "\(context): a file with errors yields no policy") }

        let report = DiagnosticReport.text(diagnostics, policyCount: policyCount)
        #expect(!report.unicodeScalars.contains { $0 != "\n" && PolicyHardeningTests.isControl($0) }, "\(context): raw control character")
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == diagnostics.count + 1, "\(context): \(lines.count) lines for \(diagnostics.count) diagnostics")
        for format in [DiagnosticReport.Format.json, .codequality] {
            let data = Data(DiagnosticReport.render(diagnostics, format: format, policyCount: policyCount).utf8)
            let entries = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]
            #expect(entries?.count == diagnostics.count, "\(context): \(format) report")
        }
    }

    /// One structural or byte-level mutation.
    static func mutate(_ bytes: inout [UInt8], rng: inout SeededGenerator, corpus: [(name: String, text: String, isConfig: Bool)]) {
        func position() -> Int { bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count + 1)) }
        var lines: [ArraySlice<UInt8>] { bytes.split(separator: 0x0A, omittingEmptySubsequences: false) }
        switch rng.next() % 10 {
        case 9:  // replace a value (after ': ' or '- ') with a hostile double-quoted one
            var all = lines
            let candidates = all.indices.filter { all[$0].contains(0x3A) || all[$0].contains(0x2D) }
            guard let index = candidates.randomElement(using: &rng) else { return }
            let line = all[index]
            let cut = line.firstIndex(of: 0x3A).map { $0 + 1 } ?? line.firstIndex(of: 0x2D).map { $0 + 1 } ?? line.endIndex
            let value = Array((" " + hostileValues[Int(rng.next() % UInt64(hostileValues.count))]).utf8)
            all[index] = ArraySlice(Array(line[..<cut]) + value)
            bytes = Array(all.joined(separator: [0x0A]))
        case 0:  // flip a byte
            if !bytes.isEmpty { bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 << (rng.next() % 8)) }
        case 1:  // insert a random byte (control, ASCII, or a piece of UTF-8)
            bytes.insert(UInt8(rng.next() % 256), at: position())
        case 2:  // insert a fragment
            bytes.insert(contentsOf: Array(fragments[Int(rng.next() % UInt64(fragments.count))].utf8), at: position())
        case 3:  // delete a range
            let start = position(), length = Int(rng.next() % 40)
            bytes.removeSubrange(start..<min(start + length, bytes.count))
        case 4:  // duplicate a line elsewhere
            var all = lines
            guard !all.isEmpty else { return }
            all.insert(all[Int(rng.next() % UInt64(all.count))], at: Int(rng.next() % UInt64(all.count + 1)))
            bytes = Array(all.joined(separator: [0x0A]))
        case 5:  // swap two lines
            var all = lines
            guard all.count > 1 else { return }
            all.swapAt(Int(rng.next() % UInt64(all.count)), Int(rng.next() % UInt64(all.count)))
            bytes = Array(all.joined(separator: [0x0A]))
        case 6:  // indent or dedent a line
            var all = lines
            guard !all.isEmpty else { return }
            let index = Int(rng.next() % UInt64(all.count))
            if rng.next() % 2 == 0 { all[index] = ArraySlice([0x20, 0x20] + all[index]) } else { all[index] = all[index].drop { $0 == 0x20 } }
            bytes = Array(all.joined(separator: [0x0A]))
        case 7:  // splice a line from another corpus file
            let other = corpus[Int(rng.next() % UInt64(corpus.count))].text.split(separator: "\n")
            guard let line = other.randomElement(using: &rng) else { return }
            bytes.insert(contentsOf: Array(line.utf8) + [0x0A], at: position())
        default:  // truncate, or repeat a region many times (size and time)
            if rng.next() % 2 == 0 {
                bytes = Array(bytes.prefix(position()))
            } else {
                let start = position(), length = min(Int(rng.next() % 64) + 1, bytes.count - start)
                guard length > 0 else { return }
                let region = bytes[start..<(start + length)]
                bytes.insert(contentsOf: Array(Array(repeating: region, count: Int(rng.next() % 200) + 1).joined()), at: start)
            }
        }
    }
}
