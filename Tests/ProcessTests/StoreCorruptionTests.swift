import Foundation
import LTSTestSupport
import Transport
import XCTest

/// A damaged log refuses the start with a message that names the file and
/// what to do, instead of serving from a wrong state.
final class StoreCorruptionTests: XCTestCase {
    func testAFlippedByteInTheLogRefusesTheStart() throws {
        let licensed = try LicensedNode()
        _ = try licensed.importLicense(try licensed.issue(items: ["itemId=s,product=dbr,chargeWay=scan,quantity=100,expires=2099-12-31"]))
        XCTAssertEqual(try licensed.client("authorize", ["handshakeCode": "acme-1", "clientUUID": "c", "product": "dbr"]).status, 200)
        licensed.node.stop()
        let database = licensed.node.directory + "/data/lts.sqlite"
        let sqlite = try Transport.SQLiteDatabase(path: database)
        try sqlite.execute("UPDATE wal SET payload = CAST(replace(CAST(payload AS TEXT), 'dbr', 'xbr') AS BLOB) WHERE kind = 'import'")
        try sqlite.query("UPDATE wal SET term = term + 1 WHERE lsn = 3")
        sqlite.close()
        let result = try NodeProcess.run(["serve", "--config", licensed.node.configPath])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.error.contains(database), result.error)
        XCTAssertTrue(result.error.contains("damaged at log record"), result.error)
        XCTAssertTrue(result.error.contains("restore the data directory"), result.error)
    }
}
