@testable import Transport
import XCTest

final class RouterTests: XCTestCase {
    private func makeRouter() -> Router<String> {
        var router = Router<String>()
        router.add("GET", "/api/health", "health")
        router.add("GET", "/api/admin/handshakes", "list")
        router.add("POST", "/api/admin/handshakes", "create")
        router.add("PUT", "/api/admin/handshakes/{code}", "update")
        router.add("DELETE", "/api/admin/handshakes/{code}", "delete")
        router.add("GET", "/page/*", "portal")
        return router
    }

    private func handler(_ match: Router<String>.Match) -> String? {
        if case .found(let handler, _, _) = match { return handler }
        return nil
    }

    func testRoutesAreNumberedByPattern() {
        let router = makeRouter()
        XCTAssertEqual(router.patterns, ["/api/health", "/api/admin/handshakes", "/api/admin/handshakes/{code}", "/page/*"])
        guard case .found(_, _, let route) = router.match(method: "DELETE", path: "/lts/api/admin/handshakes/x") else { return XCTFail("no match") }
        XCTAssertEqual(route, 2, "one number for every method of a pattern")
        guard case .found(_, _, let portal) = router.match(method: "GET", path: "/dls/page/js/app.js") else { return XCTFail("no match") }
        XCTAssertEqual(portal, 3)
    }

    func testEveryRouteIsServedUnderBothPrefixes() {
        let router = makeRouter()
        XCTAssertEqual(handler(router.match(method: "GET", path: "/dls/api/health")), "health")
        XCTAssertEqual(handler(router.match(method: "GET", path: "/lts/api/health")), "health")
    }

    func testOtherPrefixesAndLookalikesAreNotFound() {
        let router = makeRouter()
        for path in ["/api/health", "/dlsx/api/health", "/xyz/api/health", "/", "", "/dls", "/dls/api/healthz"] {
            guard case .notFound = router.match(method: "GET", path: path) else { return XCTFail("\(path) matched") }
        }
    }

    func testPathParametersArePercentDecoded() {
        guard case .found(let name, let parameters, _) = makeRouter().match(method: "PUT", path: "/dls/api/admin/handshakes/acme-%E2%9C%93") else {
            return XCTFail("no match")
        }
        XCTAssertEqual(name, "update")
        XCTAssertEqual(parameters["code"], "acme-✓")
    }

    func testWrongMethodListsTheAllowedOnes() {
        guard case .methodNotAllowed(let allowed) = makeRouter().match(method: "PATCH", path: "/lts/api/admin/handshakes/x") else {
            return XCTFail("expected 405")
        }
        XCTAssertEqual(allowed, ["PUT", "DELETE"])
    }

    func testHeadIsAnsweredByGet() {
        XCTAssertEqual(handler(makeRouter().match(method: "HEAD", path: "/dls/api/health")), "health")
    }

    func testRestPatternTakesTheRemainderIncludingEmpty() {
        let router = makeRouter()
        guard case .found(_, let deep, _) = router.match(method: "GET", path: "/dls/page/js/app.js") else { return XCTFail("no match") }
        XCTAssertEqual(deep["*"], "js/app.js")
        guard case .found(_, let root, _) = router.match(method: "GET", path: "/dls/page/") else { return XCTFail("no match") }
        XCTAssertEqual(root["*"], "")
    }

    func testTrailingSlashOnlyMatchesRestPatterns() {
        guard case .notFound = makeRouter().match(method: "GET", path: "/dls/api/health/") else { return XCTFail("matched") }
    }

    func testMissingParameterDoesNotMatch() {
        guard case .notFound = makeRouter().match(method: "PUT", path: "/dls/api/admin/handshakes/") else { return XCTFail("matched") }
    }
}
