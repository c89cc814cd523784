import Foundation
import Logging

/// What both of promobot's handlers share: handler-level metadata, looked up by key.
protocol PromobotLogHandler: LogHandler {
    var metadata: Logger.Metadata { get set }
}

extension PromobotLogHandler {
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}

/// Human-readable log lines on standard error: `2026-11-27T10:00:00Z info oms/test: opened !4 [action=…]`.
struct TextLogHandler: PromobotLogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    func log(event: LogEvent) {
        let (level, message, metadata) = (event.level, event.message, event.metadata)
        var all = self.metadata.merging(metadata ?? [:]) { $1 }
        var scope = ""
        if case .string(let policy)? = all.removeValue(forKey: "policy") {
            scope = policy
            if case .string(let stage)? = all.removeValue(forKey: "stage") { scope += "/" + stage }
            scope += ": "
        }
        let extra = all.isEmpty ? "" : " [" + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "]"
        let text = "\(LogTime.now()) \(level) \(scope)\(message)\(extra)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// One JSON object per line on standard error, for log collectors: `{"time","level","message",...metadata}`.
struct JSONLogHandler: PromobotLogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    func log(event: LogEvent) {
        let (level, message, metadata) = (event.level, event.message, event.metadata)
        var object: [String: String] = ["time": LogTime.now(), "level": "\(level)", "message": "\(message)", "logger": label]
        for (key, value) in self.metadata.merging(metadata ?? [:], uniquingKeysWith: { $1 }) { object[key] = "\(value)" }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}

enum LogTime {
    static func now() -> String {
        ISO8601DateFormatter().string(from: Date())
    }
}
