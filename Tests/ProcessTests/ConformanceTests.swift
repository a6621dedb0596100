import Foundation
import LicenseClient
import LTSTestSupport
import Platform
import XCTest

/// The client conformance scenarios (clients/conformance/scenarios/*.json)
/// run by the Swift `LicenseClient`, each against a fresh real pair: see
/// clients/conformance/README.md.
final class ConformanceTests: XCTestCase {
    static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("clients/conformance/scenarios")

    func testEveryScenario() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.scenarios.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 5, "no scenarios in \(Self.scenarios.path)")
        for file in files {
            let data = try Data(contentsOf: Self.scenarios.appendingPathComponent(file))
            let scenario = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], file)
            try ScenarioRun(scenario: scenario, file: file).run()
        }
    }
}

/// One scenario's steps with one client, against a fresh pair.
private final class ScenarioRun {
    let name: String
    let scenario: [String: Any]
    let pair: NodePair
    let client: LicenseClient
    let offline: LicenseClient
    let buffer: ReportBuffer
    let keeper: LeaseKeeper
    var requestIds: [String: String] = [:]
    var grants: [String: (grantId: String, requestId: String, leaseSeconds: Int)] = [:]
    let code: String

    init(scenario: [String: Any], file: String) throws {
        self.scenario = scenario
        name = scenario["scenario"] as? String ?? file
        // Pinned fingerprints: the client key then pins both nodes.
        pair = try NodePair(pinFingerprints: true)
        let primary = try pair.startBoth()
        try pair.setUpAdmin(on: primary)
        let imported = try pair.importLicenseAnswer(on: primary, items: [
            "product=conformance-scan,chargeWay=scan,quantity=1000000,expires=2099-12-31",
            "product=conformance-lease,chargeWay=concurrentInstance,quantity=5,leaseSeconds=10,expires=2099-12-31",
        ], boundTo: "*", org: "conformance")
        code = try XCTUnwrap(imported.json?["handshakeCode"] as? String, "\(name): the conformance license was not imported")
        let keyText = try XCTUnwrap(pair.admin(primary, "GET", "/api/admin/handshakes/\(code)/client-key").json?["clientKey"] as? String)
        var settings = LicenseClient.Settings(key: try ClientKey(parsing: keyText), clientUUID: "conformance-swift-\(name)")
        if scenario["serversOrder"] as? String == "standby-first" { settings.servers.reverse() }
        client = try LicenseClient(settings: settings)
        var unreachable = LicenseClient.Settings(servers: [("https://127.0.0.1:\(try NodePair.freePort())/dls/", .pinnedSHA256([UInt8](repeating: 0, count: 32)))],
                                                 handshakeCode: code, clientUUID: settings.clientUUID)
        unreachable.callDeadlineMs = 700
        offline = try LicenseClient(settings: unreachable)
        buffer = try ReportBuffer(path: pair.directory + "/reports-\(name).jsonl")
        keeper = LeaseKeeper(client: client)
    }

    func requestId(_ label: String) -> String {
        if let known = requestIds[label] { return known }
        let made = "\(name)-\(label)-\(UUID().uuidString)"
        requestIds[label] = made
        return made
    }

    func run() throws {
        defer { keeper.close() }
        let steps = try XCTUnwrap(scenario["steps"] as? [[String: Any]], "\(name): no steps")
        for (index, step) in steps.enumerated() {
            try perform(step, at: "\(name) step \(index) \(step)")
        }
        let primary = try currentPrimary()
        let listed = try pair.grants(primary).filter { $0["handshakeCode"] as? String == code }
        for (label, grant) in grants {
            let matching = listed.filter { $0["requestId"] as? String == grant.requestId }.compactMap { $0["grantId"] as? String }
            XCTAssertEqual(matching, [grant.grantId], "\(name): grant \(label) once, unchanged")
        }
    }

    private func perform(_ step: [String: Any], at place: String) throws {
        if let product = step["authorize"] as? String {
            let granted = try client.authorize(product: product, requestId: requestId(try XCTUnwrap(step["request"] as? String, place)))
            if let same = step["same"] as? String { XCTAssertEqual(granted.grantId, grants[same]?.grantId, "\(place): a repeated requestId gets its first grant") }
            if let save = step["save"] as? String { grants[save] = (granted.grantId, granted.requestId, granted.leaseSeconds) }
        } else if let scans = step["report"] as? Int {
            guard case .delivered = try client.report(scans: scans, requestId: requestId(try XCTUnwrap(step["request"] as? String, place))) else {
                return XCTFail("\(place): not counted")
            }
        } else if let label = step["heartbeat"] as? String {
            let grantId = try XCTUnwrap(grants[label]?.grantId, place)
            if let code = step["refused"] as? Int {
                XCTAssertThrowsError(try client.heartbeat(grantId: grantId), place) { error in
                    XCTAssertEqual((error as? LicenseClient.Refusal)?.code, code, "\(place): \(error)")
                }
            } else {
                _ = try client.heartbeat(grantId: grantId)
            }
        } else if let label = step["release"] as? String {
            try client.release(grantId: try XCTUnwrap(grants[label]?.grantId, place))
        } else if step["kill"] as? String == "primary" {
            pair.nodes[try currentPrimary()].stop(signal: SIGKILL)
        } else if let label = step["keepLease"] as? String, let seconds = step["seconds"] as? Double {
            let grant = try XCTUnwrap(grants[label], place)
            keeper.keep(grantId: grant.grantId, leaseSeconds: grant.leaseSeconds)
            Thread.sleep(forTimeInterval: seconds)
            keeper.stop(grantId: grant.grantId)
            XCTAssertGreaterThan(keeper.renewals.count, 0, "\(place): the lease keeper renewed nothing")
        } else if let seconds = step["wait"] as? Double {
            Thread.sleep(forTimeInterval: seconds)
        } else if let scans = step["offlineReport"] as? Int {
            XCTAssertEqual(try offline.report(scans: scans, buffer: buffer), .buffered, place)
        } else if let expected = step["deliver"] as? Int {
            let outcome = try client.deliverBuffered(buffer)
            XCTAssertEqual(outcome.delivered, expected, place)
            XCTAssertEqual(outcome.refused, 0, place)
        } else if let used = step["used"] as? [String: Int] {
            let body = try pair.admin(try currentPrimary(), "GET", "/api/admin/items").body
            let items = try XCTUnwrap(JSONSerialization.jsonObject(with: body) as? [[String: Any]], place)
            for (product, count) in used {
                XCTAssertEqual(items.first { $0["product"] as? String == product }?["used"] as? Int, count, "\(place): \(product)")
            }
        } else {
            XCTFail("\(place): unknown step")
        }
    }

    private func currentPrimary() throws -> Int {
        var primary = -1
        try pair.wait(for: "a primary") {
            primary = (0..<2).first { pair.health($0)?["role"] as? String == "primary" } ?? -1
            return primary >= 0
        }
        return primary
    }
}
