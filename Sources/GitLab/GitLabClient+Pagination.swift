import Foundation
import HTTP

extension GitLabClient {
    /// Fetches every page of a list endpoint with `per_page=100`.
    ///
    /// Follows `Link: <…>; rel="next"` when it points at GitLab's own origin; otherwise uses
    /// `X-Next-Page` (an empty value means last page). `X-Total` is never trusted. A next link
    /// to another origin is refused (the token would travel there): if GitLab also sent
    /// `X-Next-Page`, that page is fetched from our own origin instead, else it throws.
    /// - Throws: `GitLabError` (`.unexpected` for a refused link, a page loop, or more than `maxPages` pages).
    func fetchAll<T: Decodable>(_ type: T.Type, _ endpoint: Endpoint) async throws -> [T] {
        var firstQuery = endpoint.query.filter { $0.name != "per_page" && $0.name != "page" }
        firstQuery.append(("per_page", "100"))
        var url = try self.url(endpoint.path, query: firstQuery)
        var results: [T] = []
        var seen: Set<String> = []
        var pages = 0
        while true {
            seen.insert(url.absoluteString)
            pages += 1
            let response = try await execute(endpoint, url: url)
            let items = try decode([T].self, response, endpoint, url: url)
            results.append(contentsOf: items)
            guard !items.isEmpty, let next = try nextPage(after: response, endpoint: endpoint, query: firstQuery, current: url) else {
                return results
            }
            if seen.contains(next.absoluteString) {
                throw GitLabError(kind: .unexpected, status: response.status,
                                  message: "GitLab's next-page link points back at a page already read; stopped to avoid a loop",
                                  method: endpoint.method.rawValue, path: displayPath(url), operation: endpoint.operation)
            }
            if pages >= maxPages {
                throw GitLabError(kind: .unexpected, status: response.status,
                                  message: "more than \(maxPages) pages; stopped (raise maxPages if this list is really that long)",
                                  method: endpoint.method.rawValue, path: displayPath(url), operation: endpoint.operation)
            }
            url = next
        }
    }

    func nextPage(after response: HTTPResponse, endpoint: Endpoint, query: [(name: String, value: String)], current: URL) throws -> URL? {
        var refused: String?
        for value in response.headers.values("Link") {
            guard let target = LinkHeader.parse(value)["next"] else { continue }
            guard let next = URL(string: target, relativeTo: URL(string: apiRoot))?.absoluteURL else { continue }
            if URLEncoding.origin(of: next) == URLEncoding.origin(of: current) { return next }
            refused = URLEncoding.origin(of: next) ?? "another origin"
            break
        }
        let nextPage = response.headers["X-Next-Page"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if let number = Int(nextPage), number > 0 {
            return try url(endpoint.path, query: query + [("page", String(number))])
        }
        if !nextPage.isEmpty, let next = URL(string: nextPage), URLEncoding.origin(of: next) == URLEncoding.origin(of: current) {
            return next // keyset pagination puts a full URL here
        }
        if let refused {
            throw GitLabError(kind: .unexpected, status: response.status,
                              message: "refused GitLab's next-page link to \(refused), which is not the configured GitLab origin (the token would be sent there); check GitLab's external_url or the proxy in front of it",
                              method: endpoint.method.rawValue, path: displayPath(current), operation: endpoint.operation)
        }
        return nil
    }
}
