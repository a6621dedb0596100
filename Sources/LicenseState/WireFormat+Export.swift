// Log records and snapshots are coded with WireFormat's BinaryWriter and
// BinaryReader and positioned by its LogPosition, which every user of
// LicenseState handles with them: re-exported so those users need no
// second import.
@_exported import WireFormat
