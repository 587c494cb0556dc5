package io.switchboard.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.switchboard.bench.FaultScript.Kind;
import org.junit.jupiter.api.Test;

class FaultScriptTest {
  @Test
  void parsesSortsAndFillsDefaults() {
    FaultScript s = FaultScript.parse("12:kill-relay, 5:pg-freeze,20:storm:50");
    assertThat(s.faults()).extracting(FaultScript.Fault::kind).containsExactly(Kind.PG_FREEZE, Kind.KILL_RELAY, Kind.STORM);
    assertThat(s.faults().get(0).arg()).isEqualTo(3);
    assertThat(s.faults().get(2).arg()).isEqualTo(50);
    assertThat(s.lastAt()).isEqualTo(20);
    assertThat(FaultScript.parse(FaultScript.DEFAULT).faults()).hasSize(7);
    assertThat(FaultScript.parse("none").faults()).isEmpty();
  }

  @Test
  void refusesWhatItCannotRunSafely() {
    assertThatThrownBy(() -> FaultScript.parse("5:reboot")).hasMessageContaining("unknown kind");
    assertThatThrownBy(() -> FaultScript.parse("5:storm:999999")).hasMessageContaining("ARG <=");
    assertThatThrownBy(() -> FaultScript.parse("5:kill-relay:3")).hasMessageContaining("takes no argument");
    assertThatThrownBy(() -> FaultScript.parse("-1:pg-kill")).hasMessageContaining("AT >= 0");
    assertThatThrownBy(() -> FaultScript.parse("soon:pg-kill")).hasMessageContaining("not a number");
  }

  @Test
  void aBadScriptIsAUsageErrorBeforeAnythingStarts() {
    assertThat(Bench.run(new String[] {"chaos", "--faults", "5:reboot"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"chaos", "--faults", "50:kill-relay", "--duration", "40"})).isEqualTo(2);
    assertThat(Bench.run(new String[] {"chaos", "--rooms", "30", "--clients", "20"})).isEqualTo(2);
  }
}
