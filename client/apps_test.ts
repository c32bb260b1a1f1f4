import assert from "node:assert/strict";
import { appLauncher, findApplication, listApplications } from "./apps.ts";
import { installedApplications } from "./capabilities.ts";

async function desktopHome(): Promise<string> {
  const home = await Deno.makeTempDir({ prefix: "alien3-apps-" });
  await Deno.mkdir(`${home}/applications`);
  const write = (file: string, lines: string[]) =>
    Deno.writeTextFile(`${home}/applications/${file}`, ["[Desktop Entry]", ...lines].join("\n"));
  await write("marker.desktop", [
    "Type=Application",
    "Name=Alien Marker",
    'Exec=/bin/sh -c "pwd > where.txt" %U',
  ]);
  await write("hidden.desktop", ["Type=Application", "Name=Hidden One", "Exec=true", "NoDisplay=true"]);
  await write("link.desktop", ["Type=Link", "Name=A Link", "URL=http://example.com"]);
  await write("noexec.desktop", ["Type=Application", "Name=No Exec"]);
  return home;
}

Deno.test("the apps a device advertises are exactly the ones launch can find", async () => {
  const home = await desktopHome();
  try {
    const search = {
      os: "linux",
      env: (name: string) =>
        name === "XDG_DATA_HOME" ? home : name === "XDG_DATA_DIRS" ? "/nonexistent" : undefined,
    };
    const apps = await listApplications(search);
    assert.deepEqual(apps.map((a) => [a.name, a.id]), [["Alien Marker", "marker"]]);
    assert.deepEqual(await installedApplications("linux", search.env), ["Alien Marker"]);
    assert.equal(findApplication(apps, "alien marker")?.id, "marker", "names match case-insensitively");
    assert.equal(findApplication(apps, "MARKER")?.name, "Alien Marker", "desktop file ids match too");
    assert.equal(findApplication(apps, "Hidden One"), null);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a launched app starts in the files directory", async () => {
  const home = await desktopHome();
  const filesDir = await Deno.realPath(await Deno.makeTempDir({ prefix: "alien3-files-" }));
  try {
    const env = (name: string) =>
      name === "XDG_DATA_HOME" ? home : name === "XDG_DATA_DIRS" ? "/nonexistent" : undefined;
    const launch = appLauncher({ os: "linux", env }, filesDir);
    const started = await launch("Alien Marker");
    assert.equal(started?.app, "Alien Marker");
    assert.equal(await launch("No Such App"), null);
    const deadline = Date.now() + 5000;
    let where = "";
    while (where === "" && Date.now() < deadline) {
      where = await Deno.readTextFile(`${filesDir}/where.txt`).catch(() => "");
      if (where === "") await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(where.trim(), filesDir);
  } finally {
    await Deno.remove(home, { recursive: true });
    await Deno.remove(filesDir, { recursive: true });
  }
});
