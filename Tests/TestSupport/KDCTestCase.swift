import Foundation
import XCTest

/// A test class with a throwaway Kerberos realm of its own (`scripts/test-kdc`): started once before
/// the class's first test, made the process's realm before each test, stopped after the last one.
/// A realm that does not start fails every test of the class; nothing is skipped.
open class KDCTestCase: XCTestCase {
    /// Starts the class's realm; subclasses say which one.
    open class func startRealm() throws -> TestKDC {
        throw TestKDC.Failure(description: "\(self) does not say which realm it needs (override startRealm())")
    }

    /// Each subclass's realm, or why it did not start (XCTest runs classes one after another).
    nonisolated(unsafe) private static var realms: [ObjectIdentifier: Result<TestKDC, Error>] = [:]

    /// The realm of this test's class.
    public var realm: TestKDC {
        guard case .success(let realm)? = Self.realms[ObjectIdentifier(type(of: self))] else {
            fatalError("the realm is read before setUpWithError() ran or after it failed")
        }
        return realm
    }

    override open class func setUp() {
        super.setUp()
        realms[ObjectIdentifier(self)] = Result { try startRealm() }
    }

    override open class func tearDown() {
        if case .success(let realm)? = realms.removeValue(forKey: ObjectIdentifier(self)) {
            try? realm.stop()
        }
        super.tearDown()
    }

    override open func setUpWithError() throws {
        try super.setUpWithError()
        guard let started = Self.realms[ObjectIdentifier(type(of: self))] else {
            throw TestKDC.Failure(description: "the class's realm was never started")
        }
        try started.get().activate()
    }
}
