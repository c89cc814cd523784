import Foundation
import HTTP
import Policies

/// Reads a Prometheus instant-query answer and compares its single value with the bounds.
///
/// A value within the bounds is `passed`; a value outside them is `failed`, the only confirmed
/// failure. Everything else is `unknown`: an unreadable body, an error envelope, no data, several
/// series, `NaN`, or a result type other than vector or scalar. Unknown is still fail-closed for
/// promotions ("no data" often means the metric or the service is gone, not that it is healthy), but
/// it is not a measurement of the app, so it never triggers an automatic rollback.
enum PrometheusVerdict {
    static func evaluate(response: HTTPResponse, below: Double?, above: Double?) -> (HealthState, String) {
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: response.body) else {
            return (.unknown, "Prometheus answered \(response.status) with a body promobot cannot read")
        }
        guard response.status == 200, envelope.status == "success", let data = envelope.data else {
            return (.unknown, "Prometheus error \(envelope.errorType ?? "\(response.status)"): \(envelope.error ?? "no message")")
        }
        let values: [String]
        switch data.result {
        case .vector(let samples): values = samples.map(\.value.text)
        case .scalar(let sample): values = [sample.text]
        case .other(let type): return (.unknown, "query returned a \(type), expected a single value")
        }
        guard values.count == 1, let valueText = values.first else {
            return (.unknown, values.isEmpty ? "query returned no data" : "query returned \(values.count) series, expected one")
        }
        guard let value = Double(valueText.replacingOccurrences(of: "+Inf", with: "inf")), !value.isNaN else {
            return (.unknown, "query value is \(valueText)")
        }
        if let below, !(value < below) { return (.failed, "value \(valueText) is not below \(below.formatted())") }
        if let above, !(value > above) { return (.failed, "value \(valueText) is not above \(above.formatted())") }
        let bounds = [below.map { "below \($0.formatted())" }, above.map { "above \($0.formatted())" }].compactMap { $0 }
        return (.passed, "value \(valueText) is " + bounds.joined(separator: " and "))
    }

    private struct Envelope: Decodable {
        var status: String
        var data: ResultData?
        var errorType: String?
        var error: String?
    }

    private struct Sample: Decodable {
        var text: String
        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            _ = try container.decode(Double.self)
            text = try container.decode(String.self)
        }
    }

    private struct VectorSample: Decodable { var value: Sample }

    private enum Result { case vector([VectorSample]), scalar(Sample), other(String) }

    private struct ResultData: Decodable {
        var result: Result
        enum Keys: String, CodingKey { case resultType, result }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            let type = try c.decode(String.self, forKey: .resultType)
            switch type {
            case "vector": result = .vector(try c.decode([VectorSample].self, forKey: .result))
            case "scalar": result = .scalar(try c.decode(Sample.self, forKey: .result))
            default: result = .other(type)
            }
        }
    }
}
