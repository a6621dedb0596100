import LicenseClient
import XCTest

final class ServerListTests: XCTestCase {
    private let main = "https://main.example.com/dls/"
    private let standby = "https://standby.example.com/dls/"

    func testRefusesEmptyRepeatedOrLongLists() {
        XCTAssertNil(ServerList([]))
        XCTAssertNil(ServerList([main, main]))
        XCTAssertNil(ServerList([main, standby, "https://third/dls/"]))
    }

    func testRememberedPrimaryIsTriedFirst() throws {
        var list = try XCTUnwrap(ServerList([main, standby]))
        XCTAssertEqual(list.ordered, [main, standby])
        list.remember(primary: standby)
        XCTAssertEqual(list.ordered, [standby, main])
        list.remember(primary: "https://elsewhere/dls/")
        XCTAssertEqual(list.ordered, [standby, main])
    }
}
