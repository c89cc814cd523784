import Foundation
import Yams

// MARK: - `tags` patterns

extension PolicyParser {
    /// Longest `tags` regular expression, in characters. Tags are at most 128 characters; a pattern longer
    /// than this is a mistake, and the bound keeps compiling it cheap (a 1 MB pattern took ~500 MB).
    public static let maxRegexLength = 256
    /// Deepest nesting of groups `(` and character classes `[` in a `tags` pattern. Swift's regex parser
    /// recurses per level and overflows the stack at a few thousand; real patterns nest two or three.
    public static let maxRegexNesting = 16

    /// Nil when `pattern` is within the limits and compiles both as a Swift `Regex` and as an
    /// `NSRegularExpression`, else why not. The limits are checked first: the compilers are never handed
    /// a pattern that could exhaust the stack or memory.
    static func regexProblem(_ pattern: String) -> String? {
        if pattern.count > maxRegexLength {
            return "it is \(pattern.count) characters long; a tag pattern may be at most \(maxRegexLength)"
        }
        if regexNesting(pattern) > maxRegexNesting {
            return "groups '(' and classes '[' nest more than \(maxRegexNesting) levels deep"
        }
        if let repeated = nestedRepetition(pattern) {
            return "the group '\(YAMLReader.excerpt(repeated, limit: 40))' repeats something that itself repeats, which can take exponential time to match (the regex engine has no time limit); repeat it a bounded number of times, e.g. {0,3}, or write the pattern without nesting '+' or '*'"
        }
        do {
            _ = try Regex(pattern)
        } catch {
            return String(describing: error)
        }
        do {
            _ = try NSRegularExpression(pattern: pattern)
        } catch {
            return "not accepted by NSRegularExpression"
        }
        return nil
    }

    /// The deepest nesting of unescaped `(` and `[` (an upper bound on what the regex parser recurses into:
    /// a `(` inside a class counts too, which only errs on the safe side).
    static func regexNesting(_ pattern: String) -> Int {
        var depth = 0, deepest = 0, escaped = false
        for character in pattern.unicodeScalars {
            if escaped { escaped = false; continue }
            switch character {
            case "\\": escaped = true
            case "(", "[":
                depth += 1
                deepest = max(deepest, depth)
            case ")", "]": depth = max(depth - 1, 0)
            default: break
            }
        }
        return deepest
    }

    /// The first group that an unbounded quantifier (`*`, `+`, `{n,}`, `{n,m}` with m > 10) repeats while
    /// the group itself holds an unbounded quantifier, e.g. `(a+)+`; nil when there is none.
    ///
    /// Swift's `Regex` backtracks without a step limit or cancellation, so `^(a+)+$` against a 30-character
    /// tag runs for hours inside the planner. Nested repetition is the usual cause; refusing it is the
    /// conservative check ("star height" at most 1) that safe-regex linters use. Alternation inside a
    /// repeated group (`(a|a)+`) can be slow too but is not detected.
    static func nestedRepetition(_ pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        // Per open group: where it starts and whether it holds an unbounded quantifier.
        var groups: [(start: Int, repeats: Bool)] = []
        var lastGroup: (start: Int, end: Int, repeats: Bool)?  // the atom just closed, if it was a group
        var index = 0
        func markRepeats() { if !groups.isEmpty { groups[groups.count - 1].repeats = true } }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\\":
                index += 2
                lastGroup = nil
                continue
            case "[":
                // Skip the class (classes may nest in Swift's syntax); it is one atom.
                var depth = 0
                while index < scalars.count {
                    if scalars[index] == "\\" { index += 2; continue }
                    if scalars[index] == "[" { depth += 1 }
                    if scalars[index] == "]" { depth -= 1; if depth == 0 { break } }
                    index += 1
                }
                lastGroup = nil
            case "(":
                groups.append((index, false))
                lastGroup = nil
            case ")":
                if let group = groups.popLast() {
                    lastGroup = (group.start, index, group.repeats)
                    if group.repeats { markRepeats() }
                }
            case "*", "+", "{":
                var unbounded = scalar != "{"
                if scalar == "{" {
                    var end = index + 1
                    while end < scalars.count, scalars[end] != "}" { end += 1 }
                    let body = String(String.UnicodeScalarView(scalars[(index + 1)..<min(end, scalars.count)]))
                    let bounds = body.split(separator: ",", omittingEmptySubsequences: false)
                    guard bounds.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), !(bounds.first ?? "").isEmpty
                    else { lastGroup = nil; break }  // a literal '{'
                    if bounds.count == 2 { unbounded = bounds[1].isEmpty || (Int(bounds[1]) ?? Int.max) > 10 }
                    index = end
                }
                if unbounded {
                    if let group = lastGroup, group.repeats {
                        return String(String.UnicodeScalarView(scalars[group.start...group.end]))
                    }
                    markRepeats()
                }
                lastGroup = nil
            default:
                lastGroup = nil
            }
            index += 1
        }
        return nil
    }
}
