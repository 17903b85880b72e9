// Adds the two shard replica sets of docker-compose.yml's `cluster` profile to mongos.
// Idempotent: a shard already listed in config.shards is left as it is.
const shards = {shard1: 'shard1/mongo-shard1:27018', shard2: 'shard2/mongo-shard2:27018'};
for (const [name, hosts] of Object.entries(shards)) {
  if (db.getSiblingDB('config').shards.findOne({_id: name})) {
    print(`${name}: already added`);
    continue;
  }
  const reply = db.adminCommand({addShard: hosts, name: name});
  if (!reply.ok) throw new Error(`addShard ${hosts}: ${JSON.stringify(reply)}`);
  print(`${name}: added`);
}
