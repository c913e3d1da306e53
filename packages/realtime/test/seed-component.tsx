/**
 * The "With React" component of the seed (mission-seed.md), exactly as written there except for the
 * import, which names this package instead of @inngest/realtime. Tests render it unchanged.
 */
// biome-ignore-all format: the seed's text, kept as written
// biome-ignore-all lint/suspicious/noArrayIndexKey: the seed's code, kept as written
import { useInngestSubscription } from "@herald/realtime/hooks";

function MyComponent() {
  const { data, latestData, error, state } = useInngestSubscription({
    token: {
      channel: "my-channel",
      topics: ["created", "updated"],
      key: "my-token", // Optional, will attempt to fetch if not provided
    },
  });

  if (state === "connecting") {
    return <div>Connecting...</div>;
  }

  if (error) {
    return <div>Error: {error.message}</div>;
  }

  return (
    <div>
      <h2>Latest message: {latestData?.topic}</h2>
      <pre>{JSON.stringify(latestData?.data, null, 2)}</pre>
      
      <h2>All messages:</h2>
      <ul>
        {data.map((msg, i) => (
          <li key={i}>
            {msg.topic}: {JSON.stringify(msg.data)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export { MyComponent };
