//! MOTChallenge text files (`frame,id,x,y,w,h,conf,...`, one box per line): ground truth and tracker output as the
//! MOT benchmarks and py-motmetrics' test data ship them.

use std::collections::BTreeMap;
use std::path::Path;

/// One box of one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MotObject {
    pub id: u64,
    /// x1, y1, x2, y2 in pixels, 0-based: the file's 1-based x, y shifted by −1 as motmetrics' loader does.
    pub bbox: [f32; 4],
    /// The file's `conf` column (1 when the line has none).
    pub confidence: f32,
}

/// A sequence's boxes by frame number.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MotSequence {
    frames: BTreeMap<u64, Vec<MotObject>>,
}

impl MotSequence {
    /// Reads a MOTChallenge text file; the error names the file and line.
    pub fn read(path: &Path) -> std::io::Result<MotSequence> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        MotSequence::parse(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// Parses MOTChallenge text: fields separated by commas and/or whitespace, blank lines ignored.
    pub fn parse(text: &str) -> Result<MotSequence, String> {
        let mut seq = MotSequence::default();
        for (index, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|f| !f.is_empty())
                .collect();
            if fields.is_empty() {
                continue;
            }
            let (frame, object) =
                parse_line(&fields).map_err(|e| format!("line {}: {e}", index + 1))?;
            seq.push(frame, object);
        }
        Ok(seq)
    }

    /// Adds a box to a frame (how a tracker's output becomes a sequence to score).
    pub fn push(&mut self, frame: u64, object: MotObject) {
        self.frames.entry(frame).or_default().push(object);
    }

    /// The boxes of one frame; empty if the frame has none.
    pub fn frame(&self, frame: u64) -> &[MotObject] {
        self.frames.get(&frame).map_or(&[], Vec::as_slice)
    }

    /// Frame numbers that have at least one box, ascending.
    pub fn frame_ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.frames.keys().copied()
    }

    /// (frame, boxes) for every frame that has boxes, ascending.
    pub fn frames(&self) -> impl Iterator<Item = (u64, &[MotObject])> {
        self.frames
            .iter()
            .map(|(&frame, objects)| (frame, objects.as_slice()))
    }

    /// Drops boxes whose confidence is below `min` (MOT16+ ground truth marks boxes to ignore with 0); frames
    /// left empty disappear.
    pub fn retain_confidence(&mut self, min: f32) {
        self.frames.retain(|_, objects| {
            objects.retain(|o| o.confidence >= min);
            !objects.is_empty()
        });
    }
}

fn parse_line(fields: &[&str]) -> Result<(u64, MotObject), String> {
    if fields.len() < 6 {
        return Err(format!(
            "expected at least 6 fields (frame,id,x,y,w,h), found {}",
            fields.len()
        ));
    }
    let number = |i: usize, name: &str| -> Result<f64, String> {
        fields[i]
            .parse::<f64>()
            .map_err(|_| format!("{name} {:?} is not a number", fields[i]))
    };
    let whole = |i: usize, name: &str| -> Result<u64, String> {
        let v = number(i, name)?;
        if v < 0.0 || v.fract() != 0.0 {
            return Err(format!("{name} {v} is not a non-negative integer (detection files with id -1 are not tracks)"));
        }
        Ok(v as u64)
    };
    let frame = whole(0, "frame")?;
    let id = whole(1, "id")?;
    let (x, y) = (number(2, "x")? - 1.0, number(3, "y")? - 1.0);
    let (w, h) = (number(4, "width")?, number(5, "height")?);
    let confidence = if fields.len() > 6 {
        number(6, "conf")? as f32
    } else {
        1.0
    };
    let bbox = [x as f32, y as f32, (x + w) as f32, (y + h) as f32];
    Ok((
        frame,
        MotObject {
            id,
            bbox,
            confidence,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commas_and_spaces_and_shifts_to_zero_based() {
        let seq = MotSequence::parse("1,2,11,21,30,40,1,-1,-1,-1\n\n2 3 1.5 1 10 10\n").unwrap();
        assert_eq!(
            seq.frame(1),
            &[MotObject {
                id: 2,
                bbox: [10.0, 20.0, 40.0, 60.0],
                confidence: 1.0
            }]
        );
        assert_eq!(seq.frame(2)[0].bbox, [0.5, 0.0, 10.5, 10.0]);
        assert!(seq.frame(3).is_empty());
        assert_eq!(seq.frame_ids().collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let err = MotSequence::parse("1,1,0,0,1,1\n1,x,0,0,1,1\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("id"), "{err}");
        let err = MotSequence::parse("1,-1,0,0,1,1\n").unwrap_err();
        assert!(
            err.contains("line 1") && err.contains("non-negative"),
            "{err}"
        );
        assert!(MotSequence::parse("1,1,0,0\n")
            .unwrap_err()
            .contains("at least 6"));
    }
}
