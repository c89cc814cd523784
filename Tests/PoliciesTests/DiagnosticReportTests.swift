import Foundation
import Testing
@testable import Policies

@Suite struct DiagnosticReportTests {
    static let sample = [
        Diagnostic(path: "policies/oms.yaml", line: 27, column: 7, message: "unknown key 'soka' in stage 'prod' (did you mean 'soak'?)"),
        Diagnostic(path: "policies/oms.yaml", line: 3, column: 5, severity: .warning, message: "'soak' has no effect"),
        Diagnostic(path: "policies", line: 0, column: 0, message: "no such file or folder"),
    ]

    @Test func formattedIsCompilerStyle() {
        #expect(Self.sample.map(\.formatted) == [
            "policies/oms.yaml:27:7: error: unknown key 'soka' in stage 'prod' (did you mean 'soak'?)",
            "policies/oms.yaml:3:5: warning: 'soak' has no effect",
            "policies: error: no such file or folder",
        ])
    }

    @Test func textEndsWithASummary() {
        #expect(DiagnosticReport.text([], policyCount: 3) == "3 policies, 0 problems\n")
        let text = DiagnosticReport.text(Self.sample, policyCount: 1)
        #expect(text.split(separator: "\n").last == "1 policy, 3 problems (2 errors, 1 warning)")
        #expect(text.split(separator: "\n").count == 4)
    }

    @Test func jsonShape() throws {
        let data = Data(DiagnosticReport.json(Self.sample).utf8)
        let array = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(array.count == 3)
        #expect(Set(array[0].keys) == ["path", "line", "column", "severity", "message"])
        #expect(array[0]["path"] as? String == "policies/oms.yaml")
        #expect(array[0]["line"] as? Int == 27 && array[0]["column"] as? Int == 7)
        #expect(array[0]["severity"] as? String == "error" && array[1]["severity"] as? String == "warning")
        #expect(array[0]["message"] as? String == Self.sample[0].message)
        #expect(DiagnosticReport.json([]).trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" ||
                DiagnosticReport.json([]).trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func codeQualityShape() throws {
        let data = Data(DiagnosticReport.codeQuality(Self.sample).utf8)
        let array = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(array.count == 3)
        let first = array[0]
        #expect(Set(first.keys) == ["description", "check_name", "fingerprint", "severity", "location"])
        #expect(first["description"] as? String == Self.sample[0].message)
        #expect(first["check_name"] as? String == "promobot-validate")
        #expect(first["severity"] as? String == "major" && array[1]["severity"] as? String == "minor")
        let location = try #require(first["location"] as? [String: Any])
        #expect(location["path"] as? String == "policies/oms.yaml")
        #expect((location["lines"] as? [String: Any])?["begin"] as? Int == 27)
        #expect(((array[2]["location"] as? [String: Any])?["lines"] as? [String: Any])?["begin"] as? Int == 1)
        let fingerprints = array.compactMap { $0["fingerprint"] as? String }
        #expect(fingerprints.count == 3 && Set(fingerprints).count == 3)
        #expect(fingerprints.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
    }

    @Test func fingerprintIsStableAndDependsOnPathAndMessage() {
        let a = DiagnosticReport.fingerprint(path: "p.yaml", message: "m")
        #expect(a == DiagnosticReport.fingerprint(path: "p.yaml", message: "m"))
        #expect(a != DiagnosticReport.fingerprint(path: "q.yaml", message: "m"))
        #expect(a != DiagnosticReport.fingerprint(path: "p.yaml", message: "n"))
        #expect(a != DiagnosticReport.fingerprint(path: "p.yam", message: "lm"))
        // FNV-1a 64 of the empty input is the offset basis; with "" + NUL + "" it is one step from it.
        #expect(DiagnosticReport.fingerprint(path: "", message: "") == "af63bd4c8601b7df")
    }
}
