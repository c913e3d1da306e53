/**
 * The Redis engine's Lua scripts. Each runs atomically on the Redis node that owns the channel's
 * keys (they share a `{…}` hash tag, so this works on Redis Cluster too).
 */

/**
 * Publish: idempotency check, next seq (new epoch if the channel's state was lost), append to the
 * capped history stream with the seq as the entry id, publish to the live channel.
 * KEYS: 1 meta hash, 2 history stream, 3 idempotency key.
 * ARGV: 1 body, 2 topic, 3 kind, 4 now ms, 5 history size, 6 history ttl ms, 7 idempotency window ms
 *       (0: no key), 8 live channel, 9 epoch to use if the channel has none, 10 message id, 11 meta ttl ms.
 * Returns {0, "<id> <epoch> <seq>"}, or {1, that ack} for a repeated idempotency key.
 */
export const PUBLISH_SCRIPT = `
if ARGV[7] ~= '0' then
  local prev = redis.call('GET', KEYS[3])
  if prev then return {1, prev} end
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[9]
  -- A new epoch invalidates any history left from the old one.
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[11])
local json = ARGV[1] .. ',"epoch":"' .. epoch .. '","seq":' .. seq .. '}'
if tonumber(ARGV[5]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[5], seq .. '-0', 'j', json, 't', ARGV[2], 'k', ARGV[3], 'a', ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
local ack = ARGV[10] .. ' ' .. epoch .. ' ' .. seq
if ARGV[7] ~= '0' then redis.call('SET', KEYS[3], ack, 'PX', ARGV[7]) end
redis.call('PUBLISH', ARGV[8], 'm\\n' .. ARGV[3] .. '\\n' .. ARGV[2] .. '\\n' .. seq .. '\\n' .. epoch .. '\\n' .. json)
return {0, ack}
`;

/**
 * History: the channel's position and the stream entries after a seq.
 * KEYS: 1 meta hash, 2 history stream.
 * ARGV: 1 first seq wanted (0: from the oldest), 2 max entries (0: none), 3 epoch to use if the
 *       channel has none, 4 meta ttl ms.
 * Returns {epoch, top seq, entries} where entries is XRANGE's reply.
 */
export const HISTORY_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then
  epoch = ARGV[3]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
local top = redis.call('HGET', KEYS[1], 'seq')
local entries = {}
if tonumber(ARGV[2]) > 0 then
  local from = '-'
  if tonumber(ARGV[1]) > 0 then from = ARGV[1] .. '-0' end
  entries = redis.call('XRANGE', KEYS[2], from, '+', 'COUNT', ARGV[2])
end
return {epoch, top, entries}
`;
