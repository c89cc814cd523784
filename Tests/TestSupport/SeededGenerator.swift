import Foundation

/// A small, fast, seedable random number generator (SplitMix64) for randomized tests: the same seed
/// gives the same sequence on every machine, so a failure printed with its seed replays exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// The seed this generator started from, for the failure message.
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        self.state = seed
    }

    /// A generator seeded from `variable` in the environment when set (to replay a failure), else at random.
    public static func fromEnvironment(_ variable: String) -> SeededGenerator {
        let given = ProcessInfo.processInfo.environment[variable].flatMap { UInt64($0) }
        return SeededGenerator(seed: given ?? UInt64.random(in: 1...UInt64(Int64.max)))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<count` (0 when `count` is not positive).
    public mutating func below(_ count: Int) -> Int { count > 0 ? Int.random(in: 0..<count, using: &self) : 0 }

    /// True with probability `numerator / denominator`.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        Int.random(in: 0..<denominator, using: &self) < numerator
    }
}

/// A whole number from `variable` in the environment, or `fallback` (for "more rounds behind a variable").
public func environmentInt(_ variable: String, default fallback: Int) -> Int {
    ProcessInfo.processInfo.environment[variable].flatMap { Int($0) } ?? fallback
}
