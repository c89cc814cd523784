import Testing
@testable import Manifests

@Suite struct UnifiedDiffTests {
    @Test func equalTextsHaveNoDiff() {
        #expect(UnifiedDiff.render(path: "a.yaml", old: "x\n", new: "x\n") == "")
    }

    @Test func oneChangedLineWithContext() {
        let old = (1...10).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let new = old.replacingFirst("line 5", with: "line five")
        #expect(UnifiedDiff.render(path: "dev/app/deploy.yaml", old: old, new: new) == """
            --- a/dev/app/deploy.yaml
            +++ b/dev/app/deploy.yaml
            @@ -2,7 +2,7 @@
             line 2
             line 3
             line 4
            -line 5
            +line five
             line 6
             line 7
             line 8

            """)
    }

    @Test func distantChangesMakeTwoHunksAndInsertionsCount() {
        let old = (1...20).map { "l\($0)" }.joined(separator: "\n") + "\n"
        var new = old.replacingFirst("l2\n", with: "l2\nnew\n")
        new = new.replacingFirst("l19", with: "L19")
        let diff = UnifiedDiff.render(path: "f", old: old, new: new, context: 1)
        #expect(diff == """
            --- a/f
            +++ b/f
            @@ -2,2 +2,3 @@
             l2
            +new
             l3
            @@ -18,3 +19,3 @@
             l18
            -l19
            +L19
             l20

            """)
    }

    @Test func missingFinalNewlineIsMarked() {
        let diff = UnifiedDiff.render(path: "f", old: "a\nb", new: "a\nc")
        #expect(diff.hasSuffix("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
