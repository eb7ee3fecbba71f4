"""`help` in mongo mode: the mongosh syntax opsh reads, methods and values."""

from __future__ import annotations

from opsh.shell.result import Result

HELP = """\
mongo mode (mongosh syntax; arguments are relaxed JSON, never evaluated):
  show dbs | show collections | show users      use DB      it (next batch)      db
  db.COLL.find({age: {$gt: 30}}, {name: 1}).sort({name: 1}).skip(10).limit(5)
  db.COLL.findOne(filter)   .countDocuments(filter)   .estimatedDocumentCount()
  db.COLL.insertOne(doc)    .insertMany([docs])       .distinct("field", filter)
  db.COLL.updateOne(filter, {$set: {...}}, {upsert: true})   .updateMany(...)   .replaceOne(...)
  db.COLL.deleteOne(filter) .deleteMany(filter)       .aggregate([{$match: {}}, {$group: {...}}])
  db.COLL.createIndex({field: 1}, {unique: true})     .getIndexes()   .dropIndex("name")   .drop()
  db.getCollection("name").find()     db.getCollectionNames()     db.stats()     db.dropDatabase()
  db.runCommand({ping: 1})            db.adminCommand({listDatabases: 1})
Values: ObjectId("..."), ISODate("..."), new Date(...), NumberLong(..), NumberInt(..),
  NumberDecimal(".."), /regex/i, {"$oid": ...} and other Extended JSON wrappers.
Statements end at a newline or `;`; an open bracket continues on the next line.
Add `--format table|json|csv|...` at the end of a line; `--yes` confirms drop/deleteMany({}).
`\\cmd` runs an opsh command, `\\q` or `exit` goes back to local."""


def mode_help() -> Result:
    return Result.of_text(HELP)
