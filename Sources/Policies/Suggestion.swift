/// "Did you mean" suggestions for misspelt keys and values.
///
/// Uses the optimal-string-alignment distance (Levenshtein plus adjacent transpositions),
/// so `soka` -> `soak` is one edit. Pure functions.
enum Suggestion {
    /// The candidate closest to `word`, if it is close enough to be a likely typo.
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = word.lowercased()
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let other = candidate.lowercased()
            // `monday` -> `mon`, `newest` -> `newest-soaked`: one word abbreviates the other.
            let (short, long) = lowered.count <= other.count ? (lowered, other) : (other, lowered)
            if short.count >= 3, long.hasPrefix(short), best == nil { best = (candidate, 3); continue }
            let distance = other == lowered ? 0 : editDistance(lowered, other)
            let limit = candidate.count <= 3 ? 1 : (candidate.count <= 8 ? 2 : 3)
            guard distance <= limit, distance < max(candidate.count, word.count) else { continue }
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// ` (did you mean 'x'?)` or an empty string.
    static func didYouMean(_ word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// Optimal string alignment distance between two strings, in characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
