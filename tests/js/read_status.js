// Read the service with the published Statuspage API client, pointed at another host.
// usage: node read_status.js BASE_URL   (prints what the client returned, as JSON)
const { Statuspage } = require("statuspage.io");

async function main() {
  const client = new Statuspage("anypageid");
  client.setApiUrl(process.argv[2]);
  const api = client.api;
  const out = {
    summary: await api.getSummary(),
    status: await api.getStatus(),
    components: await api.getComponents(),
    incidents: await api.incidents.getAll(),
    unresolved: await api.incidents.getUnresolved(),
    maintenances: await api.scheduledMaintenances.getAll(),
    upcoming: await api.scheduledMaintenances.getUpcoming(),
    active: await api.scheduledMaintenances.getActive(),
  };
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err && err.message ? err.message : err);
  process.exit(1);
});
